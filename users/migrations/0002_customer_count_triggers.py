"""Statement-level triggers keep ApplicationCustomerCount exact for every writer (ORM, COPY, bulk SQL)."""

from django.db import migrations

SQL = """
CREATE FUNCTION users_count_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO users_applicationcustomercount AS c (application_id, total, archived)
  SELECT application_id, count(*), count(*) FILTER (WHERE archived) FROM new_rows GROUP BY application_id
  ON CONFLICT (application_id) DO UPDATE
    SET total = c.total + EXCLUDED.total, archived = c.archived + EXCLUDED.archived;
  RETURN NULL;
END $$;

CREATE FUNCTION users_count_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users_applicationcustomercount AS c
     SET total = c.total - d.total, archived = c.archived - d.archived
    FROM (SELECT application_id, count(*) AS total, count(*) FILTER (WHERE archived) AS archived
            FROM old_rows GROUP BY application_id) AS d
   WHERE c.application_id = d.application_id;
  RETURN NULL;
END $$;

CREATE FUNCTION users_count_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users_applicationcustomercount AS c
     SET archived = c.archived + d.delta
    FROM (SELECT n.application_id, sum(n.archived::int - o.archived::int) AS delta
            FROM new_rows n JOIN old_rows o ON o.id = n.id
           WHERE n.archived IS DISTINCT FROM o.archived
           GROUP BY n.application_id) AS d
   WHERE c.application_id = d.application_id AND d.delta <> 0;
  RETURN NULL;
END $$;

CREATE TRIGGER users_customer_count_insert AFTER INSERT ON users_customer
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION users_count_after_insert();
CREATE TRIGGER users_customer_count_delete AFTER DELETE ON users_customer
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION users_count_after_delete();
CREATE TRIGGER users_customer_count_update AFTER UPDATE ON users_customer
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION users_count_after_update();
"""

REVERSE = """
DROP TRIGGER IF EXISTS users_customer_count_insert ON users_customer;
DROP TRIGGER IF EXISTS users_customer_count_delete ON users_customer;
DROP TRIGGER IF EXISTS users_customer_count_update ON users_customer;
DROP FUNCTION IF EXISTS users_count_after_insert();
DROP FUNCTION IF EXISTS users_count_after_delete();
DROP FUNCTION IF EXISTS users_count_after_update();
"""


class Migration(migrations.Migration):
    dependencies = [("users", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
