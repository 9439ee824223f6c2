-- AccessBot state on PostgreSQL: typed tables where a query needs a column, jsonb for the rest.
-- Text keys compare byte-wise (COLLATE "C") so listings come out in the same order as the bbolt store.

-- +goose Up
CREATE TABLE conversations (
    tenant_id       text COLLATE "C" NOT NULL,
    aad_object_id   text COLLATE "C" NOT NULL,
    conversation_id text NOT NULL,
    service_url     text NOT NULL,
    updated_at      timestamptz NOT NULL,
    ref             jsonb NOT NULL,
    PRIMARY KEY (tenant_id, aad_object_id)
);

-- Processed activity ids and activity claims (claimed = taken, not yet completed).
CREATE TABLE processed (
    key      text PRIMARY KEY,
    at       timestamptz NOT NULL,
    claimed  boolean NOT NULL DEFAULT false,
    response bytea
);
CREATE INDEX processed_at ON processed (at);

CREATE TABLE cards (
    key           text COLLATE "C" NOT NULL,
    kind          text COLLATE "C" NOT NULL,
    tenant_id     text COLLATE "C" NOT NULL DEFAULT '',
    aad_object_id text COLLATE "C" NOT NULL DEFAULT '',
    activity_id   text NOT NULL,
    updated_at    timestamptz NOT NULL,
    ref           jsonb NOT NULL,
    PRIMARY KEY (key, kind, tenant_id, aad_object_id)
);

CREATE TABLE dialogs (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX dialogs_updated_at ON dialogs (updated_at);

-- Generic JSON records (welcome flags, confirmations, …); version backs UpdateKV's compare-and-swap.
CREATE TABLE kv (
    bucket  text COLLATE "C" NOT NULL,
    key     text COLLATE "C" NOT NULL,
    value   jsonb NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (bucket, key)
);

CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    payload      jsonb NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    not_before   timestamptz NOT NULL,
    leased_until timestamptz,
    last_error   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL
);
CREATE INDEX outbox_due ON outbox (not_before, id);

CREATE TABLE dead_letters (
    id         bigint PRIMARY KEY,
    kind       text NOT NULL,
    payload    jsonb,
    attempts   integer NOT NULL,
    not_before timestamptz NOT NULL,
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    dead_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit (
    seq          bigserial PRIMARY KEY,
    time         timestamptz NOT NULL,
    actor_tenant text NOT NULL DEFAULT '',
    actor_id     text NOT NULL DEFAULT '',
    actor_name   text NOT NULL DEFAULT '',
    action       text NOT NULL,
    mode         text NOT NULL,
    request_id   text NOT NULL DEFAULT '',
    package_id   text NOT NULL DEFAULT '',
    package_name text NOT NULL DEFAULT '',
    subject_id   text NOT NULL DEFAULT '',
    subject_name text NOT NULL DEFAULT '',
    outcome      text NOT NULL DEFAULT '',
    details      jsonb
);
CREATE INDEX audit_subject ON audit (subject_id, seq DESC);
CREATE INDEX audit_package ON audit (package_id, seq DESC);
CREATE INDEX audit_actor ON audit (actor_id, seq DESC);
CREATE INDEX audit_request ON audit (request_id, seq DESC);

-- Requests the lifecycle follows: indexed columns + the core's own JSON body + a version for CAS.
CREATE TABLE requests (
    id            text COLLATE "C" PRIMARY KEY,
    kind          text NOT NULL,
    state         text NOT NULL,
    tenant_id     text NOT NULL DEFAULT '',
    requestor_id  text NOT NULL DEFAULT '',
    package_id    text NOT NULL DEFAULT '',
    next_check_at timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       bigint NOT NULL,
    body          jsonb
);
CREATE INDEX requests_state ON requests (state);
CREATE INDEX requests_requestor ON requests (requestor_id);
CREATE INDEX requests_package ON requests (package_id);
CREATE INDEX requests_due ON requests (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX requests_created ON requests (created_at, id);

-- Named leases: one holder at a time for a background job across replicas.
CREATE TABLE leases (
    name   text PRIMARY KEY,
    holder text NOT NULL,
    until  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE requests;
DROP TABLE audit;
DROP TABLE dead_letters;
DROP TABLE outbox;
DROP TABLE kv;
DROP TABLE dialogs;
DROP TABLE cards;
DROP TABLE processed;
DROP TABLE conversations;
