-- moderation_actions_append_only: keeps the moderators' audit table append-only (docs/design.md
-- §3.12).
--
-- This file is the CURRENT definition. The migration that defines the function
-- (20261129T104000_moderation_desk) runs it and pins its sha256: to change the function, follow
-- "Changing a SQL function" in packages/db/README.md.
--
-- Triggers run it before every UPDATE and DELETE of a row and before a TRUNCATE, so a record of
-- who did what, when and why can be added but never changed or removed, whoever connects and
-- however (not only through the service's code).
CREATE OR REPLACE FUNCTION moderation_actions_append_only()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  RAISE EXCEPTION 'moderation_actions is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
