//! Fulfilment records (SPEC §6): what happened on a collaboration against its terms — late or
//! missing posts (recorded by a background job), script deviations, a missing cart link, … —
//! with severity, note and evidence files; append-only, corrected by superseding records; and the
//! tenant's deduction policy that says what each record is worth.
