//! Counts as people and exports write them: `12,345`, `1.2万`, `3.4K`, `1.5M` (one parser for the
//! creator import, the snapshot import and the terms form).
