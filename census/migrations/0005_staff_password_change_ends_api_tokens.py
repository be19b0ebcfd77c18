"""A changed password ends the account's API tokens, enforced by PostgreSQL: whatever changes the hash —
``set_password`` in any code, the ``changepassword`` command, a hash upgraded at login, an UPDATE by hand — the
account's rows in DRF's token table go in the same statement. A device then signs in again with the new
password, as the web sessions must (Django ends those through the session's password hash)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION census_staffmember_password_changed() RETURNS trigger AS $$
BEGIN
    DELETE FROM authtoken_token WHERE user_id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER census_staffmember_password_ends_tokens
    AFTER UPDATE OF password ON census_staffmember
    FOR EACH ROW WHEN (OLD.password IS DISTINCT FROM NEW.password)
    EXECUTE FUNCTION census_staffmember_password_changed();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS census_staffmember_password_ends_tokens ON census_staffmember;
DROP FUNCTION IF EXISTS census_staffmember_password_changed();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("census", "0004_auditevent_action_password_refused"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
