-- Which request holds a reservation. A request that could not tell whether its reservation
-- was stored (the database went away at the commit) frees it later by this id, so it can
-- only ever free its own, never one another request made with the same key meanwhile.
ALTER TABLE idempotency_keys ADD COLUMN holder uuid;
