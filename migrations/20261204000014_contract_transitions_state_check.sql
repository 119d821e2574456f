-- The transitions log names the same states as collaborations.state (ContractState); the log had
-- no CHECK of its own.
ALTER TABLE contract_transitions
  ADD CONSTRAINT contract_transitions_from_state_check CHECK (from_state IN ('proposed', 'accepted',
    'sample_shipped', 'sample_delivered', 'in_review', 'published', 'tracking', 'evaluating', 'rated',
    'settled', 'cancelled', 'breached')),
  ADD CONSTRAINT contract_transitions_to_state_check CHECK (to_state IN ('proposed', 'accepted',
    'sample_shipped', 'sample_delivered', 'in_review', 'published', 'tracking', 'evaluating', 'rated',
    'settled', 'cancelled', 'breached'));
