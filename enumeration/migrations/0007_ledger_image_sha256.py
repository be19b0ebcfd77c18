"""``ledger_image_sha256(text)``: the SHA-256 of the PNG behind a respondent's signature data URL, or NULL when the
text is no such URL — ``enumeration.ledger.image_sha256`` in SQL, for the nightly SIGNATURE_IMAGE_CHANGED.

PostgreSQL's ``decode(…, 'base64')`` skips whitespace, takes "=" anywhere and raises on a character outside the
alphabet; the function reads exactly what the Python reads (whole quanta, at most two "=" at the end, nothing
else) and answers NULL instead of raising. Testing the text with a regular expression first cost 0.3 ms for a
15 kB drawing (twice the decoding and hashing), and so did trimming its "=" to look for others; the tests here
are a few ``strpos`` (a byte search each) and a caught error, and cost little beside reading, decoding and
hashing the image, which is what re-hashing it costs anyway.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION ledger_image_sha256(image text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    url text := image;  -- fetched from TOAST once, not by every test below
    size int := octet_length(url);
    first_pad int := strpos(url, '=');
BEGIN
    IF left(url, 22) <> 'data:image/png;base64,' OR mod(size - 22, 4) <> 0
       -- "=" only as the last character, or the last two
       OR (first_pad > 0 AND first_pad < size - 1) OR (first_pad = size - 1 AND strpos(url, '==') <> first_pad)
       OR strpos(url, ' ') > 0 OR strpos(url, E'	') > 0 OR strpos(url, E'
') > 0 OR strpos(url, E'') > 0 THEN
        RETURN NULL;
    END IF;
    RETURN encode(sha256(decode(substr(url, 23), 'base64')), 'hex');
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN NULL;  -- a character outside base64's alphabet
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("enumeration", "0006_householdtransition_hmac_hex"),
    ]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS ledger_image_sha256(text)", elidable=False),
    ]
