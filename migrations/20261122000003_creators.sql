-- The agency's creator pool (shared by all tenants: a reference table, no tenant_id) and the
-- admin-maintained reference exchange rates.

CREATE TABLE creators (
    id                  uuid PRIMARY KEY,
    -- TikTok username without the leading @, lower case: the import's key.
    handle              text NOT NULL UNIQUE CHECK (handle ~ '^[a-z0-9._]{2,64}$'),
    display_name        text NOT NULL,
    profile_url         text,
    country             char(2),
    markets             text[] NOT NULL DEFAULT '{}',
    languages           text[] NOT NULL DEFAULT '{}',
    followers           bigint NOT NULL CHECK (followers >= 0),
    -- 30-day averages per video.
    avg_views           bigint NOT NULL DEFAULT 0 CHECK (avg_views >= 0),
    avg_likes           bigint NOT NULL DEFAULT 0 CHECK (avg_likes >= 0),
    avg_comments        bigint NOT NULL DEFAULT 0 CHECK (avg_comments >= 0),
    avg_shares          bigint NOT NULL DEFAULT 0 CHECK (avg_shares >= 0),
    categories          text[] NOT NULL DEFAULT '{}',
    styles              text[] NOT NULL DEFAULT '{}',
    -- Shares 0..1: {"18-24": 0.42, …}, {"female": 0.7, "male": 0.3}, {"US": 0.6, …}.
    audience_age        jsonb NOT NULL DEFAULT '{}',
    audience_gender     jsonb NOT NULL DEFAULT '{}',
    audience_countries  jsonb NOT NULL DEFAULT '{}',
    quote_video         numeric(18,2) CHECK (quote_video >= 0),
    quote_live          numeric(18,2) CHECK (quote_live >= 0),
    quote_currency      char(3),
    mcn                 text,
    contact             text,
    sample_posting_rate numeric(5,4) CHECK (sample_posting_rate BETWEEN 0 AND 1),
    violation_notes     text,
    platform_blacklisted boolean NOT NULL DEFAULT false,
    active              boolean NOT NULL DEFAULT true,
    last_refreshed_at   timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX creators_followers_idx ON creators (followers);
CREATE INDEX creators_markets_idx ON creators USING gin (markets);
GRANT SELECT ON creators TO sextant_app;
GRANT SELECT, INSERT, UPDATE ON creators TO sextant_system;

CREATE TABLE reference_rates (
    id          uuid PRIMARY KEY,
    rate_date   date NOT NULL,
    from_ccy    char(3) NOT NULL,
    to_ccy      char(3) NOT NULL CHECK (to_ccy <> from_ccy),
    rate        numeric(18,8) NOT NULL CHECK (rate > 0),
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (rate_date, from_ccy, to_ccy)
);
GRANT SELECT ON reference_rates TO sextant_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON reference_rates TO sextant_system;

-- A creator CSV upload: kept until a person imports its good rows or cancels, so the validation
-- report can be read first and the import is exactly what was validated.
CREATE TABLE creator_imports (
    id          uuid PRIMARY KEY,
    uploaded_by uuid NOT NULL REFERENCES users (id),
    filename    text NOT NULL,
    encoding    text NOT NULL,
    content     bytea NOT NULL,
    total_rows  integer NOT NULL,
    good_rows   integer NOT NULL,
    error_rows  integer NOT NULL,
    -- [{line, column, value, key}], all of them (the page shows the first 1,000).
    errors      jsonb NOT NULL DEFAULT '[]',
    status      text NOT NULL DEFAULT 'validated' CHECK (status IN ('validated', 'imported', 'cancelled')),
    created     integer,
    updated     integer,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
GRANT SELECT, INSERT, UPDATE ON creator_imports TO sextant_system;
