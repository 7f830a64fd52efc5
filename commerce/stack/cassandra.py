"""Cassandra: `cassandra-all` and its runtime jars from Maven Central, `CassandraDaemon` on JDK 11 or 17."""

from __future__ import annotations

import logging
import shutil
import string
from pathlib import Path

from commerce.env import env_int, env_str
from commerce.stack.base import STACK_DIR, Health, Out, Service, find_jdk, mvn, pom_property, port_open


class Cassandra(Service):
    name = "cassandra"
    title = "Cassandra"
    start_timeout = 240.0

    def __init__(self) -> None:
        super().__init__()
        self.host = env_str("CASSANDRA_HOSTS", "127.0.0.1").split(",")[0].strip()
        self.port = env_int("CASSANDRA_PORT", 9042)
        self.storage_port = env_int("CASSANDRA_STORAGE_PORT", 7000)
        self.heap = env_str("CASSANDRA_HEAP", "1G")
        self.lib = self.home / "lib"
        self.version = pom_property("cassandra.version")

    def install(self, out: Out) -> None:
        if not (self.lib / f"cassandra-all-{self.version}.jar").exists():
            mvn(f"Cassandra {self.version}", out,
                f"-Dcassandra.lib={self.lib}", "dependency:copy-dependencies@cassandra-classpath")
        conf = self.home / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        template = string.Template((STACK_DIR / "cassandra.yaml").read_text())
        (conf / "cassandra.yaml").write_text(
            template.substitute(storage_port=self.storage_port, native_transport_port=self.port)
        )
        shutil.copyfile(STACK_DIR / "logback.xml", conf / "logback.xml")

    def command(self) -> list[str]:
        java_home = find_jdk("CASSANDRA_JAVA_HOME", lambda major: major in (11, 17))
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
        if not port_open(self.host, self.port):
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

    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def where(self) -> str:
        return f"{self.host}:{self.port} (CQL)"
