"""deploy/'s configs loaded by the real programs: ``nginx -t`` and gunicorn's config."""

from __future__ import annotations

import subprocess
import sys

from tests.support.deploy import ROOT, NginxPaths, nginx_binary, nginx_test, require
from tests.support.servers import free_port

# --- nginx -t and gunicorn's config ------------------------------------------------------


def test_nginx_accepts_the_rendered_config(tmp_path):
    require(nginx_binary() is not None, "nginx is not installed (apt-get install nginx)")
    paths = NginxPaths(
        root=tmp_path / "nginx",
        port=free_port(),
        upstreams=[f"unix:{tmp_path}/a.sock", f"unix:{tmp_path}/b.sock"],
        objects=tmp_path / "files" / "objects",
    )
    (tmp_path / "files" / "objects").mkdir(parents=True)
    result = nginx_test(paths)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_gunicorn_config_loads_with_the_guarded_worker_preload_and_a_child_exit_hook():
    code = (
        "import json; ns = {'__file__': 'deploy/gunicorn.conf.py'};"
        "exec(open('deploy/gunicorn.conf.py').read(), ns);"
        "print(json.dumps([ns['worker_class'], ns['preload_app'], ns['workers'] > 0,"
        " callable(ns['child_exit']), ns['bind'], ns['wsgi_app']]))"
    )
    env = {"PASTEFILE_BIND": "unix:/tmp/x.sock", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == (
        '["pastefile.gunicorn_worker.GuardedThreadWorker", true, true, true,'
        ' ["unix:/tmp/x.sock"], "pastefile.wsgi:application"]'
    )
