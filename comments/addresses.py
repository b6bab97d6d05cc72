"""When two email addresses are the same person's: one rule for every lookup by address. No
model is imported here, so models and privacy can both use it."""

import contextlib
import unicodedata


def email_key(email):
    """The one form of an address that lookups compare: NFKC, the local part case-folded, the
    domain in its IDNA ASCII form, lower case ("ÉLODIE@EXÄMPLE.ORG" and
    "élodie@xn--exmple-cua.org" -> "élodie@xn--exmple-cua.org"); "" for "" or None."""
    email = unicodedata.normalize("NFKC", (email or "").strip())
    local, at, domain = email.rpartition("@")
    if not at:
        return email.casefold()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = domain.casefold()
    return f"{local.casefold()}@{domain.lower()}"


def email_forms(email):
    """The forms an address is stored under, for a case-insensitive lookup: as typed, and with
    its domain in ASCII (punycode) and in Unicode."""
    key = email_key(email)
    local, _, domain = key.rpartition("@")
    forms = {email.strip(), key}
    with contextlib.suppress(UnicodeError):
        forms.add(f"{local}@{domain.encode('ascii').decode('idna')}")
    return sorted(form for form in forms if form)
