"""The ``pf`` command: click wiring only; the work is in the modules it calls.

``main`` is the only place that prints a failure: one line on stderr, then the exit code
of docs/client.md. No traceback reaches the user (``PF_DEBUG=1`` shows them).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from pastefile_client import __version__, account, config, files
from pastefile_client.api import Api, normalize_server
from pastefile_client.errors import GENERAL, USAGE, Failure
from pastefile_client.links import parse_target
from pastefile_client.progress import bar, note
from pastefile_client.pull import Puller, PullOptions, resolve_id
from pastefile_client.push import Pusher, PushOptions, file_source, stdin_source
from pastefile_client.units import ByteSize, Duration

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
SCOPES = click.Choice(["read", "upload", "delete", "admin"])


def _secret_option(name: str, env: str, text: str, confirm: bool, always: bool) -> Decorator:
    """A flag, never ``--password VALUE``: on the command line every local user could read it
    (``ps``). It takes ``$env``, or asks on the terminal, hidden. With ``always`` the
    variable counts even without the flag."""
    return click.option(
        name,
        is_flag=True,
        help=f"{text} Reads ${env}, or asks.",
        callback=lambda ctx, param, flag: _secret(flag, env, param.name, confirm, always),
    )


def _secret(flag: bool, env: str, what: str | None, confirm: bool, always: bool) -> str | None:
    if not (flag or always):
        return None
    if os.environ.get(env):
        return os.environ[env]
    return _prompt(what or "secret", confirm, f"${env}") if flag else None


def _prompt(what: str, confirm: bool, hint: str) -> str:
    """Ask on the terminal, hidden; without one, say how to give the value instead."""
    if not sys.stdin.isatty():
        raise Failure(f"no {what} given: pass {hint} (there is no terminal to ask on)", USAGE)
    return str(
        click.prompt(what.capitalize(), hide_input=True, confirmation_prompt=confirm, err=True)
    )


def _api(ctx: click.Context, server: str | None = None, need_login: bool = False) -> Api:
    """The server named on the command line or in the config, with the token if it is its own."""
    saved = config.load()
    chosen = server or ctx.obj.get("server") or saved.server
    if need_login:
        config.require_login(saved)
    if not chosen:
        raise Failure("no server: run `pf login URL`, or pass --server URL", USAGE)
    same = saved.server and normalize_server(chosen) == normalize_server(saved.server)
    return Api(chosen, saved.token if same else None)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pf")
@click.option(
    "--server", metavar="URL", help="The pastefile server (default: the one you logged in to)."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def cli(ctx: click.Context, server: str | None, quiet: bool) -> None:
    """pf: push and pull files to a pastefile server, resumably, optionally end-to-end encrypted."""
    ctx.obj = {"server": server, "quiet": quiet}


@cli.command()
@click.argument("url")
@click.option(
    "--username", help="Exchange this user's password for a token (asks, or $PF_PASSWORD)."
)
@click.option(
    "--token", "token_value", envvar="PF_LOGIN_TOKEN", help="Use a token you already have."
)
@click.option(
    "--scope",
    "scopes",
    type=SCOPES,
    multiple=True,
    help="Scopes of the new token (default read, upload, delete).",
)
def login(url: str, username: str | None, token_value: str | None, scopes: tuple[str, ...]) -> None:
    """Log in to the server at URL: in the browser (device code) by default."""
    api = Api(url)
    wanted = scopes or account.DEFAULT_SCOPES
    token_id: int | None = None
    if token_value:
        token = token_value
    elif username:
        password = os.environ.get("PF_PASSWORD") or _prompt("password", False, "$PF_PASSWORD")
        created = account.exchange_password(api, username, password, wanted)
        token, token_id = created["token"], created.get("id")
    else:
        token = account.device_flow(api, wanted)
    who = account.remember(api.server, token, token_id)
    note(f"logged in to {api.server} as {who}")


@cli.command()
def logout() -> None:
    """Revoke the token pf made at login, and forget it."""
    note(f"logged out of {account.logout()}")


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="FILE…|-")
@click.option("--expire", type=Duration(), help="Expire after this long: 90, 30m, 12h, 7d.")
@click.option(
    "--max-downloads", type=click.IntRange(1, 1_000_000), help="Gone after this many downloads."
)
@_secret_option("--password", "PF_FILE_PASSWORD", "Protect the file with a password.", True, False)
@click.option("--private", is_flag=True, help="Only you can see it (needs login).")
@click.option(
    "--encrypt", is_flag=True, help="Encrypt end to end (age); the key is only in the link."
)
@_secret_option(
    "--passphrase",
    "PF_PASSPHRASE",
    "Encrypt with a passphrase (age scrypt) instead of a key in the link.",
    True,
    False,
)
@click.option(
    "--collection", metavar="ID", help="Upload into this collection (its id); yours to manage."
)
@click.option("--name", default="stdin", show_default=True, help="The file name for stdin (-).")
@click.option(
    "--chunk-size", type=ByteSize(), default="8M", show_default=True, help="Bytes per tus request."
)
@click.option("--limit-rate", type=ByteSize(), help="At most this many bytes a second (500k, 2M).")
@click.option("--json", "as_json", is_flag=True, help="Print each file as a JSON line.")
@click.pass_context
def push(
    ctx: click.Context, /, paths: tuple[str, ...], name: str, as_json: bool, **opts: Any
) -> None:
    """Upload files (- reads stdin). Run the same command again to resume."""
    options = PushOptions(
        expires_in=opts["expire"],
        max_downloads=opts["max_downloads"],
        password=opts["password"],
        private=opts["private"],
        encrypt=opts["encrypt"],
        passphrase=opts["passphrase"],
        collection=opts["collection"],
        chunk_size=opts["chunk_size"],
        limit_rate=opts["limit_rate"],
    )
    if paths.count("-") > 1:
        raise Failure("stdin (-) can be pushed once per command", USAGE)
    api = _api(ctx)
    sources = [stdin_source(name) if p == "-" else file_source(p) for p in paths]
    who = api.http.headers.get("Authorization", "")[-12:]  # a different login never resumes
    with bar(ctx.obj["quiet"]) as progress:
        pusher = Pusher(api, options, progress, who)
        for source in sources:
            done = pusher.push(source)
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "name": done.name,
                            "id": done.file_id,
                            "link": done.link,
                            "token": done.token,
                            "file": done.file,
                        }
                    )
                )
            else:
                click.echo(done.link)
            if done.token and not as_json:
                note(f"{done.name}: management token {done.token} (pf rm {done.file_id} --token …)")


@cli.command()
@click.argument("url")
@click.option(
    "-o", "--output", metavar="PATH", help="Where to write (a file, a folder, or - for stdout)."
)
@_secret_option("--password", "PF_FILE_PASSWORD", "The file's password.", False, True)
@_secret_option("--passphrase", "PF_PASSPHRASE", "The passphrase of a p=1 link.", False, True)
@click.option("-f", "--force", is_flag=True, help="Replace the output file if it exists.")
@click.option("--limit-rate", type=ByteSize(), help="At most this many bytes a second.")
@click.pass_context
def pull(
    ctx: click.Context,
    url: str,
    output: str | None,
    password: str | None,
    passphrase: str | None,
    force: bool,
    limit_rate: int | None,
) -> None:
    """Download a file by its link or id; resumes, checks the sha256, decrypts."""
    target = parse_target(url)
    if target.secret.passphrase and passphrase is None:
        passphrase = _prompt("passphrase", False, "$PF_PASSPHRASE")
    api = _api(ctx, target.server)
    options = PullOptions(output, password, passphrase, force, limit_rate)
    with bar(ctx.obj["quiet"] or output == "-") as progress:
        written = Puller(api, options, progress).pull(target)
    if written != "-":
        note(f"saved {written}")


@cli.command(name="ls")
@click.option("-n", "--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("-q", "--query", "query", help="Only names containing this.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ls_command(ctx: click.Context, limit: int, query: str | None, as_json: bool) -> None:
    """List your files, newest first."""
    rows = files.list_files(_api(ctx, need_login=True), limit, query)
    if as_json:
        click.echo(json.dumps(rows))
    else:
        files.print_table(rows)


@cli.command()
@click.argument("url")
@_secret_option("--password", "PF_FILE_PASSWORD", "The file's password.", False, True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def info(ctx: click.Context, url: str, password: str | None, as_json: bool) -> None:
    """Show a file's details (by link or id)."""
    target = parse_target(url)
    api = _api(ctx, target.server)
    headers = {"X-File-Password": password} if password else {}
    found = api.request("GET", f"/api/v1/files/{resolve_id(api, target)}", headers=headers).json()
    if as_json:
        click.echo(json.dumps(found))
    else:
        files.print_info(found)


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--token", "manage_token", help="The management token of an anonymous upload.")
@click.pass_context
def rm(ctx: click.Context, urls: tuple[str, ...], manage_token: str | None) -> None:
    """Delete files (by link or id): yours, or an anonymous one with its --token."""
    for url in urls:
        target = parse_target(url)
        api = _api(ctx, target.server, need_login=manage_token is None)
        headers = {"X-Token": manage_token} if manage_token else {}
        file_id = resolve_id(api, target)
        api.request("DELETE", f"/api/v1/files/{file_id}", headers=headers)
        note(f"deleted {file_id}")


@cli.group()
def token() -> None:
    """Your API tokens."""


@token.command(name="create")
@click.argument("name")
@click.option("--scope", "scopes", type=SCOPES, multiple=True, help="Default: read, upload.")
@click.pass_context
def token_create(ctx: click.Context, name: str, scopes: tuple[str, ...]) -> None:
    """Make a token; its value is printed once."""
    body = {"name": name, "scopes": list(scopes or ("read", "upload"))}
    made = _api(ctx, need_login=True).request("POST", "/api/v1/tokens", json=body).json()
    note(f"token {made['id']} ({', '.join(made['scopes'])}); shown only this once:")
    click.echo(made["token"])


@token.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def token_list(ctx: click.Context, as_json: bool) -> None:
    """Your tokens (values are never shown again)."""
    rows = _api(ctx, need_login=True).request("GET", "/api/v1/tokens").json()
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        state = "revoked" if row.get("revoked_at") else "active"
        used = str(row.get("last_used_at") or "never")[:19]
        click.echo(
            f"{row['id']:>5}  {row['prefix']}…  {state:<8} {' '.join(row['scopes']):<24} "
            f"last used {used}  {row['name']}"
        )


@token.command(name="revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke a token by its id."""
    _api(ctx, need_login=True).request("DELETE", f"/api/v1/tokens/{token_id}")
    note(f"revoked token {token_id}")


def main() -> None:
    try:
        cli.main(standalone_mode=False, prog_name="pf")
    except Failure as failed:
        _fail(failed.message, failed.code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        _fail("interrupted; run the same command again to resume", 130)
    except BrokenPipeError:
        sys.exit(GENERAL)
    except Exception as exc:
        if os.environ.get("PF_DEBUG"):
            raise
        _fail(f"unexpected error: {type(exc).__name__}: {exc}", GENERAL)
    sys.exit(0)


def _fail(message: str, code: int) -> None:
    click.echo(f"pf: {message}", err=True)
    sys.exit(code)
