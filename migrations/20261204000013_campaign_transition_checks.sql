-- A campaign's history names only the states and moves the code knows
-- (campaigns::domain::CampaignState and Transition), as campaigns.state already does.
ALTER TABLE campaign_transitions
    ADD CONSTRAINT campaign_transitions_from_state_check CHECK (from_state IN ('draft',
        'submitted', 'matching', 'shortlist_sent', 'contracting', 'running', 'evaluating', 'closed',
        'cancelled')),
    ADD CONSTRAINT campaign_transitions_to_state_check CHECK (to_state IN ('draft', 'submitted',
        'matching', 'shortlist_sent', 'contracting', 'running', 'evaluating', 'closed',
        'cancelled')),
    ADD CONSTRAINT campaign_transitions_transition_check CHECK (transition IN ('submit',
        'start_matching', 'send_shortlist', 'request_another_round', 'approve_shortlist',
        'first_contract_accepted', 'all_published_or_ended', 'all_rated_or_ended', 'cancel'));
