-- The token of the delivery that holds an activity claim (NULL on completed rows): a claim is released or
-- renewed only by its holder, so a turn whose claim was taken over cannot drop its successor's claim. Adding
-- a nullable column is instant. During a rolling deploy old replicas, which name their columns, keep working:
-- their claims carry no holder (new replicas never release them; they age out), and a takeover by an old
-- replica keeps the previous holder's token (at worst that holder releases it, as every release did before).

-- +goose Up
ALTER TABLE processed ADD COLUMN holder text;

-- +goose Down
ALTER TABLE processed DROP COLUMN holder;
