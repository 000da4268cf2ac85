#!/usr/bin/env python3
"""A small ClickHouse HTTP front over chDB (the real ClickHouse engine, in-process).

Test fixture of callscope: no modern clickhouse-server can be installed on the
machines callscope is built and tested on, but the ClickHouse engine itself is on
PyPI (chdb-core). This server speaks the subset of the ClickHouse HTTP interface
that the Rust `clickhouse` crate (0.15) uses, so the store's integration tests
run against real ClickHouse SQL, types, engines and materialized views.
See README.md for what it covers and what it does not.

Usage: server.py [--host 127.0.0.1] [--port 8123] [--path DIR]
                 [--tls-cert CERT.pem --tls-key KEY.pem [--tls-port 8443]
                  [--mtls-port 8444 --tls-client-ca CA.pem]]

With --tls-port, the same engine is also served over HTTPS on that port (the
certificate chain and key in PEM); with --mtls-port, over HTTPS on that port
too, where clients must present a certificate signed by --tls-client-ca.
"""
import argparse
import email.parser
import email.policy
import json
import re
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import lz4.block
from chdb import session as chdb_session

SESSION = None
LOCK = threading.Lock()
INSERT_FORMAT = re.compile(r"^\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)\s*$", re.IGNORECASE | re.DOTALL)
ERROR_CODE = re.compile(r"Code:\s*(\d+)")
COMPRESSED_METHOD_LZ4 = 0x82
COMPRESSED_METHOD_NONE = 0x02


def decompress_blocks(data):
    """Decodes ClickHouse's compressed block stream (decompress=1).

    Each block: 16-byte CityHash128 checksum (not verified here), 1-byte method,
    u32 compressed size (including this 9-byte header), u32 uncompressed size, payload.
    """
    out = bytearray()
    pos = 0
    while pos < len(data):
        if len(data) - pos < 25:
            raise ValueError("truncated compressed block header")
        method = data[pos + 16]
        compressed_size, uncompressed_size = struct.unpack_from("<II", data, pos + 17)
        payload = data[pos + 25: pos + 16 + compressed_size]
        if len(payload) != compressed_size - 9:
            raise ValueError("truncated compressed block")
        if method == COMPRESSED_METHOD_LZ4:
            out += lz4.block.decompress(payload, uncompressed_size=uncompressed_size)
        elif method == COMPRESSED_METHOD_NONE:
            out += payload
        else:
            raise ValueError(f"unsupported compression method 0x{method:02x} (only LZ4 and none)")
        pos += 16 + compressed_size
    return bytes(out)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "callscope-chdb-front/1"
    # Headers and body are separate writes: without this, Nagle's algorithm and
    # the client's delayed ACK add ~40 ms to every small response.
    disable_nagle_algorithm = True

    def setup(self):
        # HTTPS: the handshake runs here, in the request's own thread, so a client
        # that stalls or aborts it (an unknown CA) holds up no one else.
        self.tls_failed = False
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.settimeout(30)
                self.request.do_handshake()
                self.request.settimeout(None)
            except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
                self.tls_failed = True
                if self.server.verbose:
                    sys.stderr.write(f"{self.client_address[0]} - TLS handshake failed: {exc}\n")
        super().setup()

    def handle(self):
        if self.tls_failed:
            return
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
            if self.server.verbose:
                sys.stderr.write(f"{self.client_address[0]} - TLS/connection error: {exc}\n")

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status, body, headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = urlsplit(self.path).path
        if path in ("/ping", "/"):
            params = dict(parse_qsl(urlsplit(self.path).query))
            if "query" not in params:
                return self.reply(200, b"Ok.\n", {"Content-Type": "text/plain"})
        self.handle_query(b"")

    def do_POST(self):
        self.handle_query(self.read_body())

    def handle_query(self, body):
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        ctype = self.headers.get("Content-Type", "")
        try:
            if params.get("decompress") == "1" and body:
                body = decompress_blocks(body)
            if ctype.startswith("multipart/form-data"):
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    params[name] = part.get_payload(decode=True).decode("utf-8")
                body = b""
            if "query" in params:
                sql, data = params["query"], body
            else:
                sql, data = body.decode("utf-8"), b""
            query_params = {k[len("param_"):]: v for k, v in params.items() if k.startswith("param_")}
            result, summary = self.run(sql, data, params.get("database") or "default",
                                       params.get("default_format") or "TabSeparated", query_params)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the client
            message = str(exc).strip() or exc.__class__.__name__
            code = ERROR_CODE.search(message)
            if not code:
                message = "Code: 1000. DB::Exception: " + message
            return self.reply(500, (message + "\n").encode(), {
                "Content-Type": "text/plain; charset=UTF-8",
                "X-ClickHouse-Exception-Code": code.group(1) if code else "1000",
            })
        self.reply(200, result, {
            "Content-Type": "application/octet-stream",
            "X-ClickHouse-Summary": json.dumps(summary),
        })

    def run(self, sql, data, database, default_format, query_params):
        insert = INSERT_FORMAT.match(sql)
        with LOCK:
            SESSION.query(f"USE `{database}`")
            if insert and not re.search(r"\bSELECT\b|\bVALUES\b", insert.group(1), re.IGNORECASE):
                inserter = SESSION.send_insert(insert.group(1), insert.group(2))
                if data:
                    inserter.append(data)
                res = inserter.finish()
                return b"", {"written_rows": str(res.rows_written), "read_rows": "0"}
            if data:
                sql = sql + "\n" + data.decode("utf-8")
            res = SESSION.query(sql, default_format, params=query_params or None)
            return res.bytes(), {"read_rows": str(res.rows_read()), "written_rows": "0",
                                 "elapsed_ns": str(int(res.elapsed() * 1e9))}


def main():
    global SESSION
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8123)
    ap.add_argument("--path", default=None, help="data directory (persisted across restarts); default: temporary")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tls-port", type=int, default=None, help="also serve HTTPS on this port")
    ap.add_argument("--tls-cert", default=None, help="HTTPS: certificate chain (PEM)")
    ap.add_argument("--tls-key", default=None, help="HTTPS: private key (PEM)")
    ap.add_argument("--mtls-port", type=int, default=None,
                    help="also serve HTTPS on this port, requiring a client certificate (mutual TLS)")
    ap.add_argument("--tls-client-ca", default=None, help="mutual TLS: CA of the client certificates (PEM)")
    args = ap.parse_args()
    if (args.tls_port or args.mtls_port) and not (args.tls_cert and args.tls_key):
        ap.error("--tls-port and --mtls-port need --tls-cert and --tls-key")
    if bool(args.mtls_port) != bool(args.tls_client_ca):
        ap.error("--mtls-port and --tls-client-ca go together")
    SESSION = chdb_session.Session(args.path) if args.path else chdb_session.Session()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.verbose = args.verbose
    version = SESSION.query('SELECT version()', 'TabSeparated').bytes().decode().strip()
    print(f"chdb-front: ClickHouse {version} "
          f"on http://{args.host}:{args.port} (data: {args.path or 'temporary'})", flush=True)
    for port, client_ca in ((args.tls_port, None), (args.mtls_port, args.tls_client_ca)):
        if not port:
            continue
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(client_ca)
        tls_server = ThreadingHTTPServer((args.host, port), Handler)
        tls_server.socket = ctx.wrap_socket(tls_server.socket, server_side=True, do_handshake_on_connect=False)
        tls_server.verbose = args.verbose
        tls_server.daemon_threads = True
        threading.Thread(target=tls_server.serve_forever, name=f"https-{port}", daemon=True).start()
        mtls = " (client certificates required)" if client_ca else ""
        print(f"chdb-front: ClickHouse {version} on https://{args.host}:{port}{mtls}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
