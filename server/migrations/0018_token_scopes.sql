-- API tokens carry a scope: `read` tokens may only read (GET/HEAD), `write` tokens do
-- whatever their user may. Existing tokens keep working as before.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write'
    CHECK (scope IN ('read', 'write'));
