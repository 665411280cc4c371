"""Who may use the panel: one administrator, a password made at first start, sessions.

The password file holds one line, `scrypt$N$r$p$SALT$HASH` (hex), mode 0600; the password
itself is shown once, when the file is made. A session is a random token in an HttpOnly,
SameSite=Strict cookie, kept in memory only (a restarted panel asks to log in again); each
has its own token for forms, which every state-changing request must carry.
"""

import hashlib
import hmac
import os
import secrets
import time

SESSION_COOKIE = "ovzpanel_session"
SESSION_SECONDS = 8 * 3600
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def _hash(password, salt, n, r, p):
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


def make_password_file(path):
    """Makes the password file if it is missing; returns the new password, or None."""
    if os.path.exists(path):
        return None
    password = secrets.token_urlsafe(12)
    salt = secrets.token_bytes(16)
    digest = _hash(password, salt, **_SCRYPT)
    line = "scrypt${n}${r}${p}${salt}${hash}\n".format(
        salt=salt.hex(), hash=digest.hex(), **_SCRYPT)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # O_EXCL: two panels started at once do not overwrite each other's password.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(line)
    return password


def check_password(path, password):
    with open(path) as f:
        kind, n, r, p, salt, digest = f.read().strip().split("$")
    if kind != "scrypt":
        raise ValueError(f"{path}: not a password file of ovz-panel")
    got = _hash(password, bytes.fromhex(salt), int(n), int(r), int(p))
    return hmac.compare_digest(got, bytes.fromhex(digest))


class Sessions:
    def __init__(self):
        self._live = {}  # token -> (expiry, form token)

    def open(self):
        token = secrets.token_urlsafe(32)
        self._live[token] = (time.monotonic() + SESSION_SECONDS, secrets.token_urlsafe(24))
        return token

    def form_token(self, token):
        """The session's form token, or None for no session (or an expired one)."""
        entry = self._live.get(token or "")
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._live[token]
            return None
        return entry[1]

    def close(self, token):
        self._live.pop(token or "", None)
