//! Reference rates: converting an amount between currencies (matching compares quotes with fee
//! caps through them; tracking sums revenue in the report currency through them).
