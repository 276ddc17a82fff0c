"""Server-side sessions: the cookie carries only a random id; the data lives in `web_session`.

Flask's signed-cookie session cannot be revoked; these can. A session ends after
SILLAGE_SESSION_IDLE_MINUTES without a request or SILLAGE_SESSION_MAX_HOURS after it began;
logout, a password change, a second-factor reset and deactivation end every session of the
user (`end_user_sessions`), API tokens from `/api/v1/security/login` included (they carry the
id of a session row). The id changes at login (`rotate`). Rows are read and written through
the engine, outside the ORM session, so a request's own transaction is never committed by it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import g
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import bindparam, delete, insert, select, update
from werkzeug.datastructures import CallbackDict

from ..models import SecurityStamp, WebSession
from ..models.base import utcnow
from .stamp import DATA

table = WebSession.__table__
serializer = TaggedJSONSerializer()
TOUCH_EVERY = dt.timedelta(seconds=30)  # last_seen is written at most this often


def digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, sid=None, row=None):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.sid, self.row, self.modified, self.rotate_requested = sid, row, False, False

    def rotate(self) -> None:
        """A new id at login: an id fixed before login (session fixation) is worth nothing."""
        self.rotate_requested = True
        self.modified = True


def _engine():
    from ..extensions import db

    return db.engine


def _limits(app):
    return (dt.timedelta(minutes=app.config["SILLAGE_SESSION_IDLE_MINUTES"]),
            dt.timedelta(hours=app.config["SILLAGE_SESSION_MAX_HOURS"]))


def is_alive(row, app, now=None) -> bool:
    now = now or utcnow()
    idle, absolute = _limits(app)
    return row.last_seen_at > now - idle and row.created_at > now - absolute


_stamp = SecurityStamp.__table__
_READ = select(table, select(_stamp.c.version).where(_stamp.c.id == 1).scalar_subquery().label("stamp"),
               select(_stamp.c.version).where(_stamp.c.id == DATA).scalar_subquery().label("data_version")).where(
    table.c.id == bindparam("sid"), table.c.kind == "web")


ANONYMOUS = "a."  # prefix of a cookie holding a signed anonymous session, not an id


def _signer(app):
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(app.secret_key, salt="sillage-anonymous-session", serializer=serializer)


class DatabaseSessionInterface(SessionInterface):
    """Sessions of signed-in users live in `web_session`; before sign-in (the login form's CSRF
    token, the chosen language, a pending second factor) the few values ride in a signed cookie,
    so that anonymous requests — a crawler, a flood — write no row."""

    def open_session(self, app, request):
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid and sid.startswith(ANONYMOUS) and len(sid) < 4000:
            try:
                data = _signer(app).loads(sid[len(ANONYMOUS):], max_age=_limits(app)[0].total_seconds())
            except Exception:  # noqa: BLE001  (bad signature, expired, garbage: a fresh session)
                data = {}
            return ServerSession(data if isinstance(data, dict) else {})
        if not sid or len(sid) > 100:
            return ServerSession()
        with _engine().connect() as conn:
            row = conn.execute(_READ, {"sid": digest(sid)}).first()
        if row is None or not is_alive(row, app):
            return ServerSession()  # unknown, ended or expired: a fresh, anonymous session
        # the security stamp and the data version, in the same round trip (security/stamp.py)
        g.sillage_stamp, g.sillage_data_version = row.stamp, row.data_version or 0
        try:
            data = serializer.loads(row.data)
        except ValueError:
            data = {}
        return ServerSession(data, sid=sid, row=row)

    def save_session(self, app, session: ServerSession, response):
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        secure = self.get_cookie_secure(app) or _request_is_secure()
        now = utcnow()
        if not session and session.modified:  # emptied (logout): forget it
            if session.sid:
                with _engine().begin() as conn:
                    conn.execute(delete(table).where(table.c.id == digest(session.sid)))
            response.delete_cookie(name, domain=domain, path=path)
            return
        if not session:
            return
        if not session.get("_user_id"):  # anonymous: a signed cookie, no row
            if session.sid:
                with _engine().begin() as conn:
                    conn.execute(delete(table).where(table.c.id == digest(session.sid)))
                session.sid = None
            if session.modified:
                response.set_cookie(name, ANONYMOUS + _signer(app).dumps(dict(session)), httponly=True, secure=secure,
                                    domain=domain, path=path, samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"))
            return
        if session.modified or session.sid is None or session.rotate_requested:
            data = serializer.dumps(dict(session))
            user_id = _int(session.get("_user_id"))
            with _engine().begin() as conn:
                if session.sid and not session.rotate_requested:
                    conn.execute(update(table).where(table.c.id == digest(session.sid))
                                 .values(data=data, user_id=user_id, last_seen_at=now))
                else:
                    if session.sid:
                        conn.execute(delete(table).where(table.c.id == digest(session.sid)))
                    session.sid = secrets.token_urlsafe(32)
                    conn.execute(insert(table).values(
                        id=digest(session.sid), user_id=user_id, kind="web", data=data, created_at=now,
                        last_seen_at=now, **_client()))
        elif session.row is not None and session.row.last_seen_at < now - TOUCH_EVERY:
            with _engine().begin() as conn:
                conn.execute(update(table).where(table.c.id == digest(session.sid)).values(last_seen_at=now))
        response.set_cookie(name, session.sid, httponly=True, secure=secure, domain=domain, path=path,
                            samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"))
        response.vary.add("Cookie")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _request_is_secure() -> bool:
    from flask import request

    return request.is_secure


def _client() -> dict:
    from flask import has_request_context, request

    if not has_request_context():
        return {}
    return {"remote_addr": request.remote_addr, "user_agent": (request.user_agent.string or "")[:200]}


# --- API sessions (JWT) and revocation ---------------------------------------------------------

def open_api_session(user_id: int) -> str:
    """A session row for a JWT from the API login; its id goes in the token's `sid` claim."""
    sid = secrets.token_urlsafe(24)
    now = utcnow()
    with _engine().begin() as conn:
        conn.execute(insert(table).values(id=digest(sid), user_id=user_id, kind="api", data="{}",
                                          created_at=now, last_seen_at=now, **_client()))
    return sid


def api_session_alive(sid: str | None, app) -> bool:
    if not sid:
        return False
    with _engine().connect() as conn:
        row = conn.execute(select(table).where(table.c.id == digest(sid), table.c.kind == "api")).first()
    if row is None or not is_alive(row, app):
        return False
    now = utcnow()
    if row.last_seen_at < now - TOUCH_EVERY:
        with _engine().begin() as conn:
            conn.execute(update(table).where(table.c.id == row.id).values(last_seen_at=now))
    return True


def end_user_sessions(user_id: int, keep_sid: str | None = None, connection=None) -> int:
    """End every session (browser and API) of a user, but `keep_sid` if given; in the caller's
    transaction when a connection is given (a password or second factor changed with its
    sessions ended, or neither: a worker killed between two commits would leave them open)."""
    stmt = delete(table).where(table.c.user_id == user_id)
    if keep_sid:
        stmt = stmt.where(table.c.id != digest(keep_sid))
    if connection is not None:
        return connection.execute(stmt).rowcount
    with _engine().begin() as conn:
        return conn.execute(stmt).rowcount


def purge_expired(app) -> int:
    idle, absolute = _limits(app)
    now = utcnow()
    with _engine().begin() as conn:
        return conn.execute(delete(table).where(
            (table.c.last_seen_at < now - idle) | (table.c.created_at < now - absolute))).rowcount
