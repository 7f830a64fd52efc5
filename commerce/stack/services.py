"""The local stack: Temporal, Cassandra and Elasticsearch as plain local processes.

Each service knows how to install itself (binaries from the Python environment or from Maven
into the data folder), how to start, and how to tell that it is really healthy (a namespace
listed, a CQL query answered, cluster health yellow or green). Nothing here imports Django.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from commerce.env import data_dir, env_int, env_str

STACK_DIR = Path(__file__).resolve().parent
POM = STACK_DIR / "pom.xml"


class ServiceError(RuntimeError):
    """A service could not be installed or would not become healthy."""


@dataclass(frozen=True)
class Health:
    up: bool
    detail: str


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as dead.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def _java_major(java: Path) -> int:
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else 0


def _find_jdk(env_name: str, accept) -> Path:
    """A JDK home: the env variable if set, else the newest acceptable JDK on the machine."""
    explicit = os.environ.get(env_name)
    candidates = [Path(explicit)] if explicit else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/jvm/*"), reverse=True)]
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append(Path(java_home))
    for home in candidates:
        java = home / "bin" / "java"
        if java.exists() and accept(_java_major(java)):
            return home
    raise ServiceError(f"no suitable JDK found; set {env_name} to a JDK home")


def _mvn(*args: str) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServiceError("Maven (mvn) is needed to fetch Cassandra and Elasticsearch")
    cmd = [mvn, "-q", "-B", f"-Dmaven.repo.local={data_dir() / 'm2'}", "-f", str(POM), *args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ServiceError("Maven failed:\n" + (result.stdout + result.stderr)[-3000:])


def _pom_property(name: str) -> str:
    match = re.search(rf"<{name}>([^<]+)</{name}>", POM.read_text())
    assert match, name
    return match.group(1)


def _last_meaningful_log_line(path: Path) -> str:
    if not path.exists():
        return "(no log written)"
    lines = path.read_text(errors="replace").splitlines()
    for line in reversed(lines):
        if re.search(r"ERROR|Exception|FATAL|error:|Error:", line):
            return line.strip()[:500]
    return lines[-1].strip()[:500] if lines else "(log is empty)"


class Service:
    name: str = ""
    start_timeout: float = 60.0

    def __init__(self) -> None:
        self.home = data_dir() / self.name
        self.log_file = self.home / "logs" / f"{self.name}.out"
        self.pid_file = self.home / f"{self.name}.pid"

    # What each service defines
    def install(self) -> None: ...
    def command(self) -> list[str]: raise NotImplementedError
    def environment(self) -> dict[str, str]: return dict(os.environ)
    def check(self) -> Health: raise NotImplementedError
    def where(self) -> str: raise NotImplementedError
    def run_as(self) -> str | None: return None
    def error_log(self) -> Path: return self.log_file

    # Process management shared by all
    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def spawn(self) -> None:
        self.install()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        user = self.run_as()
        kwargs = {}
        if user:
            entry = pwd.getpwnam(user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                cwd=self.home,
                start_new_session=True,  # survives the starting shell; stopped by process group
                **kwargs,
            )
        self.pid_file.write_text(str(process.pid))

    def wait_healthy(self, deadline: float) -> Health:
        health = self.check()
        while not health.up:
            if self.pid() is None:
                raise ServiceError(
                    f"{self.name} exited during startup; see {self.error_log()}\n"
                    f"  last log line: {_last_meaningful_log_line(self.error_log())}"
                )
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"{self.name} did not become healthy in {self.start_timeout:.0f}s ({health.detail}); "
                    f"see {self.error_log()}\n"
                    f"  last log line: {_last_meaningful_log_line(self.error_log())}"
                )
            time.sleep(0.5)
            health = self.check()
        return health

    def stop(self, timeout: float = 60.0) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


class Temporal(Service):
    name = "temporal"
    start_timeout = 60.0

    def __init__(self) -> None:
        super().__init__()
        address = env_str("TEMPORAL_ADDRESS", "127.0.0.1:7233")
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        self.ui_port = env_int("TEMPORAL_UI_PORT", 8233)
        self.namespaces = ["default", env_str("TEMPORAL_TEST_NAMESPACE", "commerce-test"),
                           env_str("TEMPORAL_BENCH_NAMESPACE", "commerce-bench")]
        namespace = env_str("TEMPORAL_NAMESPACE", "default")
        if namespace not in self.namespaces:
            self.namespaces.append(namespace)

    @staticmethod
    def binary() -> Path:
        found = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal")
        if not found:
            raise ServiceError("the temporal CLI is missing: install the project (pip install -e .)")
        return Path(found)

    def command(self) -> list[str]:
        cmd = [
            str(self.binary()), "server", "start-dev",
            "--ip", self.host, "--port", str(self.port),
            "--db-filename", str(self.home / "temporal.db"),
            "--log-level", "warn",
        ]
        for namespace in self.namespaces:
            cmd += ["--namespace", namespace]
        if self.ui_port:
            cmd += ["--ui-ip", self.host, "--ui-port", str(self.ui_port)]
        else:
            cmd += ["--headless"]
        return cmd

    def check(self) -> Health:
        if not _port_open(self.host, self.port):
            return Health(False, f"port {self.port} closed")
        result = subprocess.run(
            [str(self.binary()), "operator", "namespace", "list", "--address", f"{self.host}:{self.port}", "-o", "json"],
            capture_output=True, text=True, timeout=15,
        )
        if result.returncode != 0:
            return Health(False, result.stderr.strip()[:200])
        listed = {ns.get("namespaceInfo", {}).get("name") for ns in json.loads(result.stdout or "[]")}
        missing = [ns for ns in self.namespaces if ns not in listed]
        if missing:
            return Health(False, f"namespaces not listed yet: {', '.join(missing)}")
        return Health(True, f"namespaces {', '.join(sorted(n for n in listed if n))}")

    def where(self) -> str:
        ui = f", UI http://{self.host}:{self.ui_port}" if self.ui_port else ""
        return f"{self.host}:{self.port}{ui}"


class Cassandra(Service):
    name = "cassandra"
    start_timeout = 240.0

    def __init__(self) -> None:
        super().__init__()
        self.host = env_str("CASSANDRA_HOSTS", "127.0.0.1").split(",")[0]
        self.port = env_int("CASSANDRA_PORT", 9042)
        self.storage_port = env_int("CASSANDRA_STORAGE_PORT", 7000)
        self.heap = env_str("CASSANDRA_HEAP", "1G")
        self.lib = self.home / "lib"
        self.version = _pom_property("cassandra.version")

    def install(self) -> None:
        if not (self.lib / f"cassandra-all-{self.version}.jar").exists():
            print(f"  fetching Cassandra {self.version} and its dependencies with Maven ...", flush=True)
            _mvn(f"-Dcassandra.lib={self.lib}", "dependency:copy-dependencies@cassandra-classpath")
        conf = self.home / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        template = string.Template((STACK_DIR / "cassandra.yaml").read_text())
        (conf / "cassandra.yaml").write_text(
            template.substitute(storage_port=self.storage_port, native_transport_port=self.port)
        )
        shutil.copyfile(STACK_DIR / "logback.xml", conf / "logback.xml")

    def command(self) -> list[str]:
        java_home = _find_jdk("CASSANDRA_JAVA_HOME", lambda major: major in (11, 17))
        jamm = next(self.lib.glob("jamm-*.jar"))
        jvm17 = [
            line.strip() for line in (STACK_DIR / "jvm17-server.options").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        return [
            str(java_home / "bin" / "java"),
            f"-Xms{self.heap}", f"-Xmx{self.heap}", "-Xss256k",
            *jvm17,
            f"-javaagent:{jamm}",
            "-Djava.net.preferIPv4Stack=true",
            f"-Dcassandra.storagedir={self.home / 'data'}",
            f"-Dcassandra.config=file://{self.home / 'conf' / 'cassandra.yaml'}",
            f"-Dcassandra.logdir={self.home / 'logs'}",
            f"-Dlogback.configurationFile={self.home / 'conf' / 'logback.xml'}",
            "-Dcassandra-foreground=yes",
            # One node: nothing to gossip with, so skip the settle waits.
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            "-Dcassandra.ring_delay_ms=0",
            "-cp", f"{self.home / 'conf'}:{self.lib}/*",
            "org.apache.cassandra.service.CassandraDaemon",
        ]

    def check(self) -> Health:
        if not _port_open(self.host, self.port):
            return Health(False, f"port {self.port} closed")
        # scylla-driver, imported late: it is slow to load and only this check needs it.
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import RoundRobinPolicy

        # The driver's reactor warns at interpreter exit that its thread did not join: harmless here.
        logging.getLogger("cassandra.io.libevreactor").setLevel(logging.ERROR)

        cluster = Cluster(
            [self.host],
            port=self.port,
            connect_timeout=3,
            control_connection_timeout=3,
            execution_profiles={EXEC_PROFILE_DEFAULT: ExecutionProfile(load_balancing_policy=RoundRobinPolicy())},
        )
        try:
            session = cluster.connect()
            row = session.execute("SELECT release_version FROM system.local", timeout=5).one()
            return Health(True, f"release {row.release_version}")
        except Exception as exc:  # any driver failure means "not yet"
            return Health(False, str(exc)[:200])
        finally:
            cluster.shutdown()

    def error_log(self) -> Path:
        system_log = self.home / "logs" / "system.log"
        return system_log if system_log.exists() else self.log_file

    def where(self) -> str:
        return f"{self.host}:{self.port} (CQL)"


class Elasticsearch(Service):
    name = "elasticsearch"
    start_timeout = 120.0
    # Elasticsearch refuses to run as root; when we are root it runs as this system user.
    system_user = "commerce-es"

    def __init__(self) -> None:
        super().__init__()
        url = env_str("ELASTICSEARCH_URL", "http://127.0.0.1:9200").rstrip("/")
        self.url = url
        self.host = url.split("://", 1)[-1].rsplit(":", 1)[0]
        self.port = int(url.rsplit(":", 1)[1]) if url.count(":") == 2 else 9200
        self.transport_port = env_int("ELASTICSEARCH_TRANSPORT_PORT", 9300)
        self.heap = env_str("ELASTICSEARCH_HEAP", "1g")
        self.version = _pom_property("elasticsearch.version")
        self.dist = self.home / f"elasticsearch-{self.version}"

    def run_as(self) -> str | None:
        return self.system_user if os.geteuid() == 0 else None

    def install(self) -> None:
        if not (self.dist / "bin" / "elasticsearch").exists():
            print(f"  fetching Elasticsearch {self.version} with Maven ...", flush=True)
            _mvn(f"-Delasticsearch.home={self.home}", "dependency:unpack@elasticsearch-dist")
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
        java_home = _find_jdk("ES_JAVA_HOME", lambda major: major >= 21)
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

    def where(self) -> str:
        return self.url


def all_services() -> list[Service]:
    return [Temporal(), Cassandra(), Elasticsearch()]
