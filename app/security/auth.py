"""Authentication, done once for every entry point (login form, API login, personal tokens).

- `authenticate`: password check behind throttling (growing delays, then a temporary lock)
  keyed by username *and* by address, identical for unknown accounts (no enumeration).
- Second factor: TOTP (pyotp) with replay refusal and one step of tolerance, or a single-use
  recovery code; enrolment, reset.
- Personal API tokens: random, shown once, stored hashed, scoped, expiring, revocable.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
from flask import current_app
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ApiToken, LoginThrottle, RecoveryCode, User, UserSecurity
from ..models.base import utcnow
from .audit import record_event

TOKEN_PREFIX = "sil_"
RECOVERY_CODES = 10


# --- throttling ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Throttle:
    free: int  # failures allowed before delays start
    lock_after: int  # failures that lock for `lock_minutes`
    lock_minutes: int
    window_minutes: int = 15  # failures older than this are forgotten

    def wait_seconds(self, row: LoginThrottle | None, now: dt.datetime) -> int:
        if row is None or row.last_failure_at is None:
            return 0
        if row.locked_until and row.locked_until > now:
            return int((row.locked_until - now).total_seconds()) + 1
        if row.failures < self.free or row.failures >= self.lock_after:
            return 0
        delay = min(2 ** (row.failures - self.free), 300)  # 1, 2, 4… seconds
        ready = row.last_failure_at + dt.timedelta(seconds=delay)
        return int((ready - now).total_seconds()) + 1 if ready > now else 0


def _throttles() -> dict[str, Throttle]:
    c = current_app.config
    return {"user": Throttle(c["SILLAGE_LOGIN_FREE_ATTEMPTS"], c["SILLAGE_LOGIN_LOCK_AFTER"], c["SILLAGE_LOGIN_LOCK_MINUTES"]),
            "ip": Throttle(c["SILLAGE_LOGIN_FREE_ATTEMPTS"] * 10, c["SILLAGE_LOGIN_LOCK_AFTER"] * 10,
                           c["SILLAGE_LOGIN_LOCK_MINUTES"])}


def _keys(username: str, remote_addr: str | None) -> dict[str, str]:
    """An account is slowed down and locked *from one address* (someone failing against a name
    from elsewhere never locks its owner out of their own desk), and an address failing against
    many names is slowed down on its own. Nothing is global."""
    address = (remote_addr or "-")[:64]
    return {"user": "user:" + (username or "").strip().lower()[:180] + "@" + address, "ip": f"ip:{address}"}


def throttled_for(username: str, remote_addr: str | None) -> int:
    """Seconds to wait before `username` may try again from this address (0: may try now)."""
    now = utcnow()
    waits = [0]
    for kind, key in _keys(username, remote_addr).items():
        row = db.session.get(LoginThrottle, key)
        waits.append(_throttles()[kind].wait_seconds(row, now))
    return max(waits)


def _locked_throttle_row(key: str) -> LoginThrottle:
    """The counter row of `key`, created if missing and locked until commit. Failures arrive
    at several workers and app servers at once: a read-then-write would lose some of them (and
    two first failures would both insert the row, one of them failing with an error)."""
    table = LoginThrottle.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(table).values(key=key, failures=0).on_conflict_do_nothing(index_elements=["key"]))
    return db.session.execute(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def register_failure(username: str, remote_addr: str | None) -> None:
    now = utcnow()
    for kind, key in _keys(username, remote_addr).items():
        rule = _throttles()[kind]
        row = _locked_throttle_row(key)
        if row.last_failure_at and row.last_failure_at < now - dt.timedelta(minutes=rule.window_minutes) \
                and not (row.locked_until and row.locked_until > now):
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= rule.lock_after:
            row.locked_until = now + dt.timedelta(minutes=rule.lock_minutes)
        db.session.add(row)
    db.session.commit()


def clear_failures(username: str, remote_addr: str | None) -> None:
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == _keys(username, remote_addr)["user"]))
    db.session.commit()


@dataclass
class AuthResult:
    user: User | None
    wait_seconds: int = 0


def authenticate(username: str, password: str, remote_addr: str | None) -> AuthResult:
    """Check a password behind the throttle. Same work, same answer for unknown accounts."""
    # (a NUL, which no account name holds and PostgreSQL refuses in any string, fails like any unknown name)
    username = (username or "").replace("\x00", "\ufffd")[:256]
    started = time.monotonic()
    wait = throttled_for(username, remote_addr)
    if wait:
        record_event("login_throttled", user_id=None, username=username[:100], details={"wait": wait})
        return AuthResult(None, wait)
    user = current_app.appbuilder.sm.auth_user_db(username, (password or "")[:1024])
    if user is None:
        register_failure(username, remote_addr)
        record_event("login_failed", user_id=None, username=username[:100])
        _even_out(started)
        return AuthResult(None)
    return AuthResult(user)


def _even_out(started: float, floor: float = 0.25) -> None:
    """Failures answer no faster than a floor, whatever path they took (timing is not a tell)."""
    remaining = floor - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)


# --- second factor -------------------------------------------------------------------------------

def security_row(user_id: int) -> UserSecurity:
    row = db.session.get(UserSecurity, user_id)
    if row is None:
        row = UserSecurity(user_id=user_id, must_change_password=False)
        db.session.add(row)
    return row


def mfa_enrolled(user) -> bool:
    row = db.session.get(UserSecurity, user.id)
    return bool(row and row.totp_confirmed_at)


def mfa_required(user) -> bool:
    """Every staff account by default; roles listed in SILLAGE_MFA_EXEMPT_ROLES may go without
    (an account with any non-exempt role still needs it). An enrolled account always uses it."""
    if mfa_enrolled(user):
        return True
    if not current_app.config["SILLAGE_MFA_REQUIRED"]:
        return False
    exempt = set(current_app.config["SILLAGE_MFA_EXEMPT_ROLES"])
    return not user.roles or any(r.name not in exempt for r in user.roles)


def start_enrolment(user) -> str:
    """The pending secret of an account not yet enrolled (made once: reloading the page must not
    invalidate a QR code the user has already scanned)."""
    row = security_row(user.id)
    if row.totp_confirmed_at:
        raise ValueError("already enrolled")
    if not row.totp_secret:
        row.totp_secret = pyotp.random_base32()
        db.session.commit()
    return row.totp_secret


def provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=current_app.config["APP_NAME"])


def accept_totp(holder, code: str) -> bool:
    """One time step of tolerance either side; a step already used is refused (replay). `holder`:
    what keeps `totp_secret` and `totp_last_step` (a staff UserSecurity row, a portal account)."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6 or not holder.totp_secret:
        return False
    totp, now_step = pyotp.TOTP(holder.totp_secret), int(time.time()) // 30
    for step in (now_step - 1, now_step, now_step + 1):
        if holder.totp_last_step is not None and step <= holder.totp_last_step:
            continue
        if hmac.compare_digest(totp.at(step * 30), code):
            holder.totp_last_step = step
            return True
    return False


def _hash_recovery(code: str) -> str:
    return generate_password_hash(code.replace("-", "").replace(" ", "").lower())


def new_recovery_codes(user_id: int) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=_hash_recovery(c)) for c in codes)
    return codes


def confirm_enrolment(user, code: str) -> list[str] | None:
    """The first code confirms the secret; returns the recovery codes (shown once) or None."""
    row = security_row(user.id)
    if row.totp_confirmed_at or not accept_totp(row, code):
        db.session.rollback()
        return None
    row.totp_confirmed_at = utcnow()
    codes = new_recovery_codes(user.id)
    db.session.commit()
    record_event("mfa_enrolled", user_id=user.id, username=user.username)
    return codes


def check_second_factor(user, code: str) -> str | None:
    """"totp" or "recovery" when `code` is accepted (and consumed), else None."""
    row = db.session.get(UserSecurity, user.id)
    if row is None or not row.totp_confirmed_at:
        return None
    if accept_totp(row, code):
        db.session.commit()
        return "totp"
    cleaned = (code or "").replace("-", "").replace(" ", "").lower()
    if len(cleaned) == 12:
        unused = db.session.execute(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalars().all()
        for rc in unused:
            if check_password_hash(rc.code_hash, cleaned):
                rc.used_at = utcnow()
                db.session.commit()
                record_event("mfa_recovery_code_used", user_id=user.id, username=user.username,
                             details={"remaining": len(unused) - 1})
                return "recovery"
    db.session.rollback()
    return None


def enrol_with_secret(user, secret: str) -> None:
    """Demo and automated checks: enrol an account with a known secret (`demo --totp-secret`)."""
    row = security_row(user.id)
    if row.totp_secret != secret or not row.totp_confirmed_at:
        row.totp_secret, row.totp_confirmed_at, row.totp_last_step = secret, utcnow(), None
        new_recovery_codes(user.id)


def reset_second_factor(user, by_username: str) -> None:
    """An administrator removes a user's second factor: the user enrols again at next login."""
    from .sessions import end_user_sessions

    row = security_row(user.id)
    row.totp_secret = row.totp_confirmed_at = row.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    # One transaction: the factor, the sessions, the tokens and the entry go together or not at all.
    end_user_sessions(user.id, connection=db.session.connection())
    revoke_user_tokens(user.id, "second facteur réinitialisé", commit=False)
    record_event("mfa_reset", entity="Compte", entity_id=user.id, details={"compte": user.username, "par": by_username},
                 connection=db.session.connection())
    db.session.commit()


# --- personal API tokens -------------------------------------------------------------------------

def _token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(user, scope: str, days: int, name: str, created_by_id: int | None = None) -> str:
    if scope not in ("read", "write"):
        raise ValueError("scope")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name[:100], prefix=raw[:12], token_hash=_token_digest(raw),
                            scope=scope, expires_at=utcnow() + dt.timedelta(days=days), created_by_id=created_by_id))
    db.session.commit()
    return raw


def user_for_token(raw: str) -> tuple[User, ApiToken] | None:
    """The active user and token for a raw Bearer value, or None (expired, revoked, unknown)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = db.session.execute(select(ApiToken).where(ApiToken.token_hash == _token_digest(raw))).scalar_one_or_none()
    now = utcnow()
    if token is None or token.revoked_at or token.expires_at <= now:
        return None
    user = current_app.appbuilder.sm.load_user(token.user_id)
    if user is None:
        return None
    if token.last_used_at is None or token.last_used_at < now - dt.timedelta(minutes=1):
        token.last_used_at = now
        db.session.commit()
    return user, token


def revoke_user_tokens(user_id: int, reason: str, commit: bool = True) -> int:
    """Every personal API token of an account stops working: its password changed, its second
    factor was reset, or it was deactivated (a token outliving them would keep the old access).
    The revocation and its entry in one transaction; `commit=False`: the caller's."""
    from sqlalchemy import update

    count = db.session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                               .values(revoked_at=utcnow())).rowcount
    if count:
        record_event("tokens_revoked", entity="Compte", entity_id=user_id, details={"jetons": count, "motif": reason},
                     connection=db.session.connection())
    if commit:
        db.session.commit()
    return count


def check_own_password(user, password: str, remote_addr: str | None, purpose: str) -> tuple[bool, int]:
    """A signed-in user confirms their password (changing it, unlocking, creating a token):
    (correct?, seconds to wait). Behind the same throttle as sign-in, and audited like it."""
    wait = throttled_for(user.username, remote_addr)
    if wait:
        record_event("password_check_throttled", details={"motif": purpose, "attente": wait})
        return False, wait
    if check_password_hash(user.password or "", (password or "")[:1024]):
        return True, 0
    register_failure(user.username, remote_addr)
    record_event("password_check_failed", details={"motif": purpose})
    return False, 0


def revoke_token(token: ApiToken) -> None:
    token.revoked_at = utcnow()
    db.session.commit()
