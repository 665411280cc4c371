"""The panel's routes (aiohttp). Every libovz call runs in the panel's thread pool, never in
the event loop: the pool's threads, the sampler's and the watchers' use libovz at once, which
its thread-safety promise allows. What libovz refuses is shown with its own message."""

import asyncio
import json
import os
import pathlib
import socket
import threading

from aiohttp import web

import ovz

from . import auth, pages
from .hub import Hub

STATIC = pathlib.Path(__file__).parent / "static"
LIMIT_KEYS = set(pages.RESOURCE_ORDER) | set(pages.OTHER_LIMITS)
NUMBER_KEYS = {"cpuunits", "cpulimit", "cpus", "quotatime", "quotaugidlimit"}

# The application's state (aiohttp 3.8, Debian 12's, has no typed keys).
ROOT, PASSWORDS, SESSIONS, HUB, FLASHES = "root", "passwords", "sessions", "hub", "flashes"


def blocking(call, *args, **kwargs):
    """Runs a libovz call in the default thread pool."""
    return asyncio.get_running_loop().run_in_executor(None, lambda: call(*args, **kwargs))


def _session(request):
    token = request.cookies.get(auth.SESSION_COOKIE)
    return token, request.app[SESSIONS].form_token(token)


def _flash(request, kind, text):
    token, _ = _session(request)
    request.app[FLASHES].setdefault(token, []).append((kind, text))


def _take_flashes(request):
    token, _ = _session(request)
    return request.app[FLASHES].pop(token, [])


@web.middleware
async def require_login(request, handler):
    """Nothing but the login page and the static files without a session; no change without
    the session's form token (a page of another site cannot post here)."""
    if request.path in ("/login",) or request.path.startswith("/static/"):
        return await handler(request)
    token, csrf = _session(request)
    if csrf is None:
        if request.method == "GET" and request.path != "/events":
            raise web.HTTPSeeOther("/login")
        raise web.HTTPForbidden(text="log in first")
    if request.method == "POST":
        form = await request.post()
        if form.get("csrf") != csrf:
            raise web.HTTPForbidden(text="the form is stale or not the panel's: reload the page")
    request["csrf"] = csrf
    return await handler(request)


async def login_page(request):
    return web.Response(text=pages.login(), content_type="text/html")


async def login(request):
    form = await request.post()
    ok = await blocking(auth.check_password, request.app[PASSWORDS], form.get("password", ""))
    if not ok:
        await asyncio.sleep(0.5)  # a guesser gets two tries a second, not thousands
        return web.Response(text=pages.login("Wrong password."), content_type="text/html",
                            status=403)
    response = web.HTTPSeeOther("/")
    response.set_cookie(auth.SESSION_COOKIE, request.app[SESSIONS].open(), httponly=True,
                        samesite="Strict", path="/", max_age=auth.SESSION_SECONDS)
    raise response


async def logout(request):
    token, _ = _session(request)
    request.app[SESSIONS].close(token)
    request.app[FLASHES].pop(token, None)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(auth.SESSION_COOKIE, path="/")
    raise response


def _list_ves(root):
    out = []
    for st in ovz.list_ves(root):
        try:
            ip = ovz.VE(st.ctid, root).config.get("IP_ADDRESS", "")
        except ovz.Error:
            ip = ""
        out.append({"ctid": st.ctid, "state": st.state, "hostname": st.hostname,
                    "ostemplate": st.ostemplate, "nproc": st.nproc, "ip": ip})
    return out


async def index(request):
    root = request.app[ROOT]
    ves = await blocking(_list_ves, root)
    templates = [t.name for t in await blocking(ovz.templates, root)]
    if "busybox" not in templates:
        templates.insert(0, "busybox")
    html = pages.ve_list(ves, templates, request["csrf"], _take_flashes(request))
    return web.Response(text=html, content_type="text/html")


async def create(request):
    form = await request.post()
    root = request.app[ROOT]
    ctid = form.get("ctid", "").strip()

    def make():
        ve = ovz.VE(ctid, root)
        ve.create(ostemplate=form.get("ostemplate") or None,
                  hostname=form.get("hostname", "").strip() or None,
                  config=form.get("config") or None)
        return ve.ctid

    try:
        made = await blocking(make)
    except ovz.Error as e:
        _flash(request, "error", str(e))
        raise web.HTTPSeeOther("/")
    _flash(request, "ok", f"VE {made} created.")
    raise web.HTTPSeeOther(f"/ve/{made}")


def _ctid(request):
    try:
        return int(request.match_info["ctid"])
    except ValueError:
        raise web.HTTPNotFound(text="no such VE")


def _quota(ve):
    try:
        q = ve.quota()
    except (ovz.Unsupported, ovz.NotFound):
        return None
    return {"blocks": q.blocks.usage, "blocks_hard": q.blocks.hard,
            "inodes": q.inodes.usage, "inodes_hard": q.inodes.hard}


async def ve_page(request):
    ctid = _ctid(request)
    root = request.app[ROOT]
    hub = request.app[HUB]

    def read():
        ve = ovz.VE(ctid, root)
        st = ve.status
        status = {"state": st.state, "hostname": st.hostname, "ostemplate": st.ostemplate,
                  "nproc": st.nproc}
        ubc = [[b.resource, b.held, b.maxheld, b.barrier, b.limit, b.failcnt]
               for b in ve.beancounters()] if st.state == "running" else []
        return status, ve.config, ubc, _quota(ve)

    try:
        status, config, ubc, quota = await blocking(read)
    except ovz.NotFound as e:
        _flash(request, "error", str(e))
        raise web.HTTPSeeOther("/")
    events = [e for e in hub.events if e["ctid"] == ctid]
    html = pages.ve_page(ctid, status, config, ubc, list(hub.history.get(ctid, ())), events,
                         quota, request["csrf"], _take_flashes(request))
    return web.Response(text=html, content_type="text/html")


ACTIONS = {
    "start": ("started", lambda ve: ve.start()),
    "stop": ("stopped", lambda ve: ve.stop()),
    "stop_fast": ("stopped", lambda ve: ve.stop(fast=True)),
    "restart": ("restarted", lambda ve: ve.restart()),
    "suspend": ("suspended", lambda ve: ve.suspend()),
    "resume": ("resumed", lambda ve: ve.resume()),
    "checkpoint": ("checkpointed and stopped", lambda ve: ve.checkpoint()),
    "restore": ("restored", lambda ve: ve.restore()),
    "destroy": ("destroyed", lambda ve: ve.destroy()),
}


async def act(request, done, call, gone=False):
    """Runs `call(ve)` and goes back to the VE's page with what came of it; to the list where
    the VE is `gone` from this state root once `call` succeeded (destroyed, migrated)."""
    ctid = _ctid(request)
    ve = ovz.VE(ctid, request.app[ROOT])
    try:
        await blocking(call, ve)
    except ovz.Error as e:
        _flash(request, "error", str(e))
        raise web.HTTPSeeOther(f"/ve/{ctid}")
    _flash(request, "ok", f"VE {ctid} {done}.")
    raise web.HTTPSeeOther("/" if gone else f"/ve/{ctid}")


async def action(request):
    form = await request.post()
    name = form.get("action", "")
    if name not in ACTIONS:
        raise web.HTTPBadRequest(text=f"no action {name!r}")
    if name == "destroy" and form.get("confirm") != "yes":
        _flash(request, "error", "Tick “really” to destroy the VE: its files go with it.")
        raise web.HTTPSeeOther(f"/ve/{_ctid(request)}")
    done, call = ACTIONS[name]
    await act(request, done, call, gone=name == "destroy")


async def set_limit(request):
    form = await request.post()
    key = form.get("resource", "")
    if key not in LIMIT_KEYS:
        raise web.HTTPBadRequest(text=f"no resource {key!r}")
    value = form.get("value", "").strip()
    # Counts are numbers; beancounters and disk limits take libovz's own "B:L" text.
    parsed = int(value) if key in NUMBER_KEYS and value.isdigit() else value
    await act(request, f"now has {key} {value}", lambda ve: ve.set(save=True, **{key: parsed}))


async def set_hostname(request):
    form = await request.post()
    name = form.get("hostname", "").strip()
    await act(request, f"is now called {name}", lambda ve: ve.set_hostname(name, save=True))


async def address(request):
    form = await request.post()
    if form.get("add"):
        addr = form["add"].strip()
        await act(request, f"has the address {addr}", lambda ve: ve.add_ip(addr, save=True))
    else:
        addr = form.get("del", "").strip()
        await act(request, f"no longer has the address {addr}",
                  lambda ve: ve.del_ip(addr, save=True))


def _migrate(ve, dest, online):
    """The VE moved to another state root on this host: libovz's migration stream over a
    socket pair, the receiving side in a thread of its own."""
    ours, theirs = socket.socketpair()
    received = {}

    def receive():
        try:
            received["ctid"] = ovz.receive_ve(theirs.fileno(), dest)
        except ovz.Error as e:
            received["error"] = e
        finally:
            theirs.close()

    receiver = threading.Thread(target=receive, name="ovz-panel-receive")
    receiver.start()
    try:
        ve.migrate(ours.fileno(), online=online)
    finally:
        ours.close()
        receiver.join()
    if "error" in received:
        raise received["error"]


async def migrate(request):
    form = await request.post()
    dest = form.get("dest", "").strip()
    if not os.path.isabs(dest):
        _flash(request, "error", f"The destination must be an absolute path, not {dest!r}.")
        raise web.HTTPSeeOther(f"/ve/{_ctid(request)}")
    online = form.get("online") == "yes"
    await act(request, f"moved to {dest}", lambda ve: _migrate(ve, dest, online), gone=True)


async def events(request):
    """Server-sent events: a `sample` a second and each `failcnt` event as it comes."""
    hub = request.app[HUB]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
    await response.prepare(request)
    queue = hub.subscribe()
    try:
        while True:
            message = await queue.get()
            if message is None:
                break
            await response.write(f"data: {json.dumps(message)}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.unsubscribe(queue)
    return response


async def _start_hub(app):
    app[HUB].loop = asyncio.get_running_loop()
    app[HUB].start()


async def _stop_hub(app):
    app[HUB].stop()


def make_app(root, password_file, interval=1.0):
    app = web.Application(middlewares=[require_login])
    app[ROOT] = str(root)
    app[PASSWORDS] = password_file
    app[SESSIONS] = auth.Sessions()
    app[FLASHES] = {}
    app[HUB] = Hub(str(root), None, interval=interval)
    app.on_startup.append(_start_hub)
    app.on_shutdown.append(_stop_hub)
    app.add_routes([
        web.get("/login", login_page), web.post("/login", login), web.post("/logout", logout),
        web.get("/", index), web.post("/ve", create), web.get("/ve/{ctid}", ve_page),
        web.post("/ve/{ctid}/action", action), web.post("/ve/{ctid}/set", set_limit),
        web.post("/ve/{ctid}/hostname", set_hostname), web.post("/ve/{ctid}/ip", address),
        web.post("/ve/{ctid}/migrate", migrate), web.get("/events", events),
        web.static("/static", STATIC),
    ])
    return app
