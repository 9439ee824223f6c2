-- When the lifecycle closed a request (NULL while open): maintenance deletes the requests closed longer than
-- the retention through the partial index. Adding a nullable column is instant and old replicas, which name
-- their columns, keep working during a rolling deploy.

-- +goose Up
ALTER TABLE requests ADD COLUMN closed_at timestamptz;
CREATE INDEX requests_closed ON requests (closed_at) WHERE closed_at IS NOT NULL;

-- +goose Down
DROP INDEX requests_closed;
ALTER TABLE requests DROP COLUMN closed_at;
