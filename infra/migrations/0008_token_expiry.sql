-- Tokens end: a token issued from now on carries its end (the CLI's default is a year), so a
-- token forgotten on a laptop or in a script stops working by itself. NULL: no end (tokens
-- issued before this column existed, or issued with --expires-in-days 0).
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
