//! Markets, content languages, shop and settlement currencies, and the time zones a tenant may
//! pick.
