"""The panel's HTML: plain pages, every value escaped; panel.js keeps them live."""

import html
import json
import time

RESOURCE_ORDER = ("numproc", "physpages", "swappages", "kmemsize", "numfile", "numpty",
                  "numtcpsock", "numothersock", "numflock", "lockedpages", "shmpages",
                  "privvmpages")
# What the limits form sets besides the beancounters: CPU, and the disk of a VE created
# with a diskspace (its image grows live, shrinks only while it is stopped).
OTHER_LIMITS = ("cpuunits", "cpulimit", "cpus", "diskspace", "diskinodes", "quotatime",
                "quotaugidlimit")
UNLIMITED = 2**63 - 1


def esc(value):
    return html.escape(str(value), quote=True)


def number(value):
    return "unlimited" if value >= UNLIMITED else str(value)


def page(title, body, *, csrf=None, flashes=()):
    nav = ""
    if csrf is not None:
        nav = f"""<nav><a href="/">Virtual Environments</a>
<form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{esc(csrf)}">
<button type="submit" id="logout">Log out</button></form></nav>"""
    notes = "".join(f'<p class="flash {esc(kind)}" role="alert">{esc(text)}</p>'
                    for kind, text in flashes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} — ovz-panel</title>
<link rel="stylesheet" href="/static/panel.css"></head>
<body><header><h1>ovz-panel</h1>{nav}</header>
<main>{notes}{body}</main>
<script src="/static/panel.js"></script></body></html>"""


def csrf_field(csrf):
    return f'<input type="hidden" name="csrf" value="{esc(csrf)}">'


def login(error=None):
    body = """<h2>Log in</h2>
<form method="post" action="/login" class="login">
<label>Password <input type="password" name="password" id="password" autofocus required></label>
<button type="submit" id="login">Log in</button></form>"""
    return page("Log in", body, flashes=[("error", error)] if error else ())


def ve_list(ves, templates, csrf, flashes):
    rows = "".join(
        f"""<tr data-ctid="{v['ctid']}"><td><a href="/ve/{v['ctid']}">{v['ctid']}</a></td>
<td data-field="state">{esc(v['state'])}</td><td>{esc(v['ip'] or '-')}</td>
<td data-field="hostname">{esc(v['hostname'] or '-')}</td><td>{esc(v['ostemplate'] or '-')}</td>
<td data-field="nproc">{v['nproc']}</td></tr>"""
        for v in ves) or '<tr><td colspan="6">No VE yet.</td></tr>'
    options = "".join(f'<option value="{esc(t)}">{esc(t)}</option>' for t in templates)
    body = f"""<h2>Virtual Environments</h2>
<table id="ves" class="live"><thead><tr><th>CTID</th><th>State</th><th>IP</th>
<th>Hostname</th><th>Template</th><th>Processes</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Create a VE</h2>
<form method="post" action="/ve" id="create">{csrf_field(csrf)}
<label>CTID <input name="ctid" id="ctid" required></label>
<label>Template <select name="ostemplate" id="ostemplate">{options}</select></label>
<label>Hostname <input name="hostname" id="hostname"></label>
<label>Limits <select name="config" id="config"><option>basic</option><option>light</option>
<option>unlimited</option></select></label>
<button type="submit" id="create-button">Create</button></form>"""
    return page("Virtual Environments", body, csrf=csrf, flashes=flashes)


def _ubc_rows(ubc):
    known = {row[0]: row for row in ubc}
    names = [n for n in RESOURCE_ORDER if n in known] + sorted(
        n for n in known if n not in RESOURCE_ORDER)
    out = []
    for name in names:
        _, held, maxheld, barrier, limit, failcnt = known[name]
        cells = "".join(
            f'<td data-col="{col}">{number(value)}</td>'
            for col, value in (("held", held), ("maxheld", maxheld), ("barrier", barrier),
                               ("limit", limit)))
        out.append(f'<tr data-resource="{esc(name)}"><th>{esc(name)}</th>{cells}'
                   f'<td data-col="failcnt" class="failcnt">{failcnt}</td></tr>')
    return "".join(out) or '<tr><td colspan="6">Not running: nothing is counted.</td></tr>'


def _events(events):
    return "".join(
        f"<li>{esc(time.strftime('%H:%M:%S', time.localtime(e['time'])))} "
        f"{esc(e['resource'])}: failcnt {e['previous']} → {e['failcnt']}</li>"
        for e in reversed(events))


def ve_page(ctid, status, config, ubc, history, events, quota, csrf, flashes):
    f = csrf_field(csrf)
    state = status["state"]

    def action(name, label, extra=""):
        return (f'<form method="post" action="/ve/{ctid}/action" class="inline">{f}'
                f'<input type="hidden" name="action" value="{name}">{extra}'
                f'<button type="submit" id="{name}">{esc(label)}</button></form>')

    actions = "".join([
        action("start", "Start"), action("stop", "Stop"), action("stop_fast", "Stop now"),
        action("restart", "Restart"), action("suspend", "Suspend"), action("resume", "Resume"),
        action("checkpoint", "Checkpoint"), action("restore", "Restore"),
        action("destroy", "Destroy",
               '<label><input type="checkbox" name="confirm" value="yes" id="confirm-destroy">'
               ' really</label>'),
    ])
    resources = "".join(f"<option>{r}</option>" for r in RESOURCE_ORDER + OTHER_LIMITS)
    ips = config.get("IP_ADDRESS", "").split()
    ip_list = "".join(
        f'<li>{esc(ip)} <form method="post" action="/ve/{ctid}/ip" class="inline">{f}'
        f'<input type="hidden" name="del" value="{esc(ip)}"><button type="submit">Remove</button>'
        f"</form></li>" for ip in ips) or "<li>none</li>"
    if quota is None:
        disk = "<p>No disk limit: the VE's files are in a directory of the host.</p>"
    else:
        disk = (f'<p id="quota">Disk: {quota["blocks"]} of {quota["blocks_hard"]} KiB, '
                f'{quota["inodes"]} of {quota["inodes_hard"]} inodes.</p>')
    history_json = json.dumps([[t, cpu, mem] for t, cpu, mem in history])
    body = f"""<h2>VE {ctid} <span class="state" id="state" data-ctid="{ctid}">{esc(state)}</span></h2>
<p>Hostname <b id="ve-hostname">{esc(status['hostname'] or '-')}</b> · template
{esc(status['ostemplate'] or '-')} · processes <span id="nproc">{status['nproc']}</span></p>
<div class="actions">{actions}</div>
<section class="plots">
<figure><figcaption>CPU, % of one CPU (last minutes) <span id="cpu-now"></span></figcaption>
<svg id="cpu-plot" viewBox="0 0 600 150" preserveAspectRatio="none"><polyline points=""/></svg></figure>
<figure><figcaption>Memory (physpages held), MiB <span id="mem-now"></span></figcaption>
<svg id="mem-plot" viewBox="0 0 600 150" preserveAspectRatio="none"><polyline points=""/></svg></figure>
</section>
<div id="history" hidden data-points="{esc(history_json)}"></div>
<h3>Beancounters</h3>
<table id="ubc" class="live" data-ctid="{ctid}"><thead><tr><th>resource</th><th>held</th>
<th>maxheld</th><th>barrier</th><th>limit</th><th>failcnt</th></tr></thead>
<tbody>{_ubc_rows(ubc)}</tbody></table>
<h3>Refusals (failcnt events, as they happen)</h3>
<ul id="events" data-ctid="{ctid}">{_events(events)}</ul>
<h3>Limits</h3>
<form method="post" action="/ve/{ctid}/set" id="set-limit">{f}
<label>Resource <select name="resource" id="resource">{resources}</select></label>
<label>Barrier:limit <input name="value" id="limit-value" placeholder="64:64, 256M, unlimited" required></label>
<button type="submit" id="set-button">Set and save</button></form>
<form method="post" action="/ve/{ctid}/hostname" id="set-hostname">{f}
<label>Hostname <input name="hostname" required></label><button type="submit">Set and save</button></form>
<h3>Addresses</h3><ul id="ips">{ip_list}</ul>
<form method="post" action="/ve/{ctid}/ip" id="add-ip">{f}
<label>Add <input name="add" placeholder="10.0.0.2" required></label><button type="submit">Add and save</button></form>
<h3>Disk</h3>{disk}
<h3>Migrate</h3>
<form method="post" action="/ve/{ctid}/migrate" id="migrate">{f}
<label>To the state root <input name="dest" placeholder="/srv/ovz" required></label>
<label><input type="checkbox" name="online" value="yes"> online (checkpoint and restore)</label>
<button type="submit">Migrate</button></form>"""
    return page(f"VE {ctid}", body, csrf=csrf, flashes=flashes)
