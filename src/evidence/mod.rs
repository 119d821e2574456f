//! Evidence files (SPEC §6, §7, §8): images or PDFs attached to fulfilment records, ratings and
//! blacklist entries; checked by content, at most 10 MB, kept in object storage, served back only
//! to the same tenant's users with a safe content type and `Content-Disposition`.

pub mod actions;
