"""Elasticsearch: the integ-test-zip distribution from Maven Central, one node, security off, JDK 21+."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from commerce.env import env_int, env_str
from commerce.stack.base import Health, Out, Service, ServiceError, find_jdk, mvn, pom_property


class Elasticsearch(Service):
    name = "elasticsearch"
    title = "Elasticsearch"
    start_timeout = 120.0
    # Elasticsearch refuses to run as root; when we are root it runs as this system user.
    system_user = "commerce-es"

    def __init__(self) -> None:
        super().__init__()
        self.url = env_str("ELASTICSEARCH_URL", "http://127.0.0.1:9200").rstrip("/")
        parts = urlsplit(self.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 9200
        self.transport_port = env_int("ELASTICSEARCH_TRANSPORT_PORT", 9300)
        self.heap = env_str("ELASTICSEARCH_HEAP", "1g")
        self.version = pom_property("elasticsearch.version")
        self.dist = self.home / f"elasticsearch-{self.version}"

    def run_as(self) -> str | None:
        return self.system_user if os.geteuid() == 0 else None

    def install(self, out: Out) -> None:
        if not (self.dist / "bin" / "elasticsearch").exists():
            mvn(f"Elasticsearch {self.version}", out,
                f"-Delasticsearch.home={self.home}", "dependency:unpack@elasticsearch-dist")
        config = self.home / "config"
        if not config.exists():
            shutil.copytree(self.dist / "config", config)
        for folder in ("data", "logs", "tmp"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        user = self.run_as()
        if user:
            try:
                pwd.getpwnam(user)
            except KeyError:
                subprocess.run(
                    ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
                    check=True,
                )
            folders = [str(self.home / name) for name in ("config", "data", "logs", "tmp")]
            subprocess.run(["chown", "-R", f"{user}:", *folders], check=True)
            # The service user must be able to walk down to its folder.
            for parent in self.home.parents:
                if parent.stat().st_mode & 0o001 == 0:
                    raise ServiceError(f"{parent} is not searchable by {user}; chmod o+x it")

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        java_home = find_jdk("ES_JAVA_HOME", lambda major: major >= 21)
        env.update(
            ES_JAVA_HOME=str(java_home),
            ES_PATH_CONF=str(self.home / "config"),
            ES_TMPDIR=str(self.home / "tmp"),
            ES_JAVA_OPTS=f"-Xms{self.heap} -Xmx{self.heap}",
        )
        env.pop("JAVA_HOME", None)
        return env

    def command(self) -> list[str]:
        return [
            str(self.dist / "bin" / "elasticsearch"),
            "-Ecluster.name=commerce-local",
            "-Ediscovery.type=single-node",
            f"-Enetwork.host={self.host}",
            f"-Ehttp.port={self.port}",
            f"-Etransport.port={self.transport_port}",
            "-Expack.security.enabled=false",
            f"-Epath.data={self.home / 'data'}",
            f"-Epath.logs={self.home / 'logs'}",
            # A nearly full developer disk must not make indices read-only.
            "-Ecluster.routing.allocation.disk.threshold_enabled=false",
        ]

    def check(self) -> Health:
        try:
            with urllib.request.urlopen(f"{self.url}/_cluster/health", timeout=3) as response:
                status = json.load(response).get("status")
        except (OSError, urllib.error.URLError, ValueError) as exc:
            return Health(False, str(exc)[:200])
        if status in ("green", "yellow"):
            return Health(True, f"cluster {status}")
        return Health(False, f"cluster {status}")

    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def where(self) -> str:
        return self.url
