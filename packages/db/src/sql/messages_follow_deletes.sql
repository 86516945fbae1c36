-- messages_follow_deletes: what the foreign keys of `messages` did when a match or a user is
-- deleted, kept now that the keys are gone (docs/decisions.md, decision 43).
--
-- This file is the CURRENT definition, run by migration
-- 20261129T121000_messages_without_foreign_keys, which pins its sha256: to change it, follow
-- "Changing a SQL function" in packages/db/README.md.
--
-- messages had two foreign keys, and each stored message paid for both (a lookup each, and a
-- key-share lock on the sender's users row) although append_messages, the only writer, checks
-- both under the match's lock: the match exists, and the sender is one of its two people, who
-- exist as long as the match does (its own keys). What the keys did on a delete stays, done by
-- the statement triggers that run this function with the deleted rows as the transition table
-- `gone`: a deleted match takes its messages with it (was ON DELETE CASCADE), and a deleted
-- user's messages no longer name them (was ON DELETE SET NULL). The application deletes neither
-- (an account is erased in place, docs/design.md §3.10); an operator might.
CREATE OR REPLACE FUNCTION messages_follow_deletes() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $fn$
BEGIN
  -- Each statement takes a fresh snapshot: a match deleted while a batch held its lock finds the
  -- batch's messages once it commits (and a later batch finds no match).
  IF TG_TABLE_NAME = 'matches' THEN
    DELETE FROM messages WHERE match_id IN (SELECT gone.id FROM gone);
  ELSE
    UPDATE messages SET sender_id = NULL WHERE sender_id IN (SELECT gone.id FROM gone);
  END IF;
  RETURN NULL;
END
$fn$;
