-- Retention (`[retention]`) deletes the oldest history entries a chunk at a time. Without
-- an index by time each chunk would read the whole table to find them. Entries arrive in
-- about time order, so the index grows at its end and costs little per write.
-- (health_samples needs none: its key (asset_id, taken_at) finds each asset's old samples.)
CREATE INDEX asset_history_at ON asset_history(at);
