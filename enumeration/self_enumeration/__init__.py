"""Self-enumeration (自主填报): a household fills in its own short form with a code its enumerator hands it.

The enumerator (or the township office, for a whole small area) issues an invitation: a random code, printed on a
slip with a QR code, that opens the respondent's pages for that household alone and for nobody else. Only the
code's SHA-256 is stored. The household fills in the short form's items on its phone (saved on the server as it
goes), reads it back and declares it (申报人 name and relationship). The declaration is sealed under the ledger key.
It reaches the household's enumerator as "self-reported, to verify": the enumerator takes it into the household's
form, corrects what the household confirms at the door or by phone (every change shown against the declaration)
and signs — the declaration stands as the respondent's confirmation in the ledger (谁登记、谁签字 still holds), and
``verify_signatures`` checks both. Only signed forms count anywhere.
"""
