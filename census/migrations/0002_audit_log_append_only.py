"""The audit log is append-only, enforced by PostgreSQL: UPDATE and DELETE on it raise an error."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION census_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'census_auditevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER census_auditevent_no_update_or_delete
    BEFORE UPDATE OR DELETE ON census_auditevent
    FOR EACH ROW EXECUTE FUNCTION census_auditevent_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS census_auditevent_no_update_or_delete ON census_auditevent;
DROP FUNCTION IF EXISTS census_auditevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("census", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
