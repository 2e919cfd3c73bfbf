#!/usr/bin/env python3
"""A small OCI registry for tsbuild's tests that can also misbehave, on 127.0.0.1 only.

    hostile-registry.py DIR

DIR holds what it serves, written by the test (test/helpers/hostile-registry.ts):
    blobs/<hex>                         blob bytes
    repos/<repo>/blobs                  hex digests the repository has, one a line
    repos/<repo>/manifests/<ref>        manifest bytes (by tag; served by digest too)
    repos/<repo>/fault                  optional: how this repository misbehaves
        endless-manifest   a manifest body that never ends
        drip-manifest      the manifest, one byte every DRIP_SECONDS
        drip-blob          blobs, one byte every DRIP_SECONDS
        huge-length-blob   blobs announced with a 10 TB Content-Length, then more bytes than that
        overlong-blob      blobs sent chunked (no length), followed by bytes they do not have
The blob faults hit blobs over 4 KiB (the layers: the configs here are smaller). Pushes
(uploads, cross-repository mounts, manifest PUTs) are kept: blobs in DIR, manifests in memory. Every request
is logged to DIR/requests.log as one JSON line. Prints "listening PORT" when ready.
Every body it streams stops after STREAM_SECONDS or STREAM_BYTES, or when the client goes.
"""
import hashlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DRIP_SECONDS = 0.5
STREAM_SECONDS = 60
STREAM_BYTES = 1 << 30
CHUNK = 64 << 10
MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json'

root = sys.argv[1]
lock = threading.Lock()
uploads = {}  # upload id -> bytearray
pushed_manifests = {}  # (repo, ref) -> bytes


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def repo_dir(repo):
    return os.path.join(root, 'repos', repo)


def fault_of(repo):
    try:
        return read(os.path.join(repo_dir(repo), 'fault')).decode().strip()
    except FileNotFoundError:
        return ''


def repo_has_blob(repo, hexd):
    try:
        return hexd in read(os.path.join(repo_dir(repo), 'blobs')).decode().split()
    except FileNotFoundError:
        return False


def link_blob(repo, hexd):
    os.makedirs(repo_dir(repo), exist_ok=True)
    with lock, open(os.path.join(repo_dir(repo), 'blobs'), 'a') as f:
        f.write(hexd + '\n')


def find_manifest(repo, ref):
    with lock:
        if (repo, ref) in pushed_manifests:
            return pushed_manifests[(repo, ref)]
    mdir = os.path.join(repo_dir(repo), 'manifests')
    if not os.path.isdir(mdir):
        return None
    for name in sorted(os.listdir(mdir)):
        body = read(os.path.join(mdir, name))
        if name == ref or 'sha256:' + hashlib.sha256(body).hexdigest() == ref:
            return body
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def log_request_line(self):
        with lock, open(os.path.join(root, 'requests.log'), 'a') as f:
            f.write(json.dumps({'method': self.command, 'path': self.path}) + '\n')

    def reply(self, status, body=b'', headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def not_found(self, code):
        self.reply(404, json.dumps({'errors': [{'code': code, 'message': code.lower()}]}).encode(), {'Content-Type': 'application/json'})

    def stream(self, first, more):
        """Send `first`, then `more` repeated, until the limits; the client may leave at any time."""
        started = time.monotonic()
        sent = 0
        try:
            self.write_chunk(first)
            sent += len(first)
            while time.monotonic() - started < STREAM_SECONDS and sent < STREAM_BYTES:
                self.write_chunk(more)
                sent += len(more)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def write_chunk(self, data):
        if self.chunked:
            self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        else:
            self.wfile.write(data)

    def drip(self, body, headers):
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        started = time.monotonic()
        try:
            for i in range(len(body)):
                if time.monotonic() - started > STREAM_SECONDS:
                    break
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(DRIP_SECONDS)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def start_unbounded(self, headers):
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.chunked = 'Content-Length' not in headers
        if self.chunked:
            self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()

    def do_GET(self):
        self.handle_read()

    def do_HEAD(self):
        self.handle_read()

    def handle_read(self):
        self.log_request_line()
        self.chunked = False
        path = urlparse(self.path).path
        if path == '/v2/':
            return self.reply(200, b'{}', {'Content-Type': 'application/json'})
        m = re.match(r'^/v2/(.+)/(manifests|blobs)/([^/]+)$', path)
        if not m:
            return self.not_found('NAME_UNKNOWN')
        repo, kind, ref = m.groups()
        fault = fault_of(repo)
        if kind == 'manifests':
            if fault == 'endless-manifest':
                self.start_unbounded({'Content-Type': MANIFEST_TYPE})
                return self.stream(b'{"schemaVersion":2,"annotations":{"x":"', b'a' * CHUNK)
            body = find_manifest(repo, ref)
            if body is None:
                return self.not_found('MANIFEST_UNKNOWN')
            headers = {'Content-Type': MANIFEST_TYPE, 'Docker-Content-Digest': 'sha256:' + hashlib.sha256(body).hexdigest()}
            if fault == 'drip-manifest' and self.command == 'GET':
                return self.drip(body, headers)
            return self.reply(200, body, headers)
        hexd = ref.split(':', 1)[-1]
        if not repo_has_blob(repo, hexd) or not os.path.exists(os.path.join(root, 'blobs', hexd)):
            return self.not_found('BLOB_UNKNOWN')
        body = read(os.path.join(root, 'blobs', hexd))
        is_layer = len(body) > 4096  # configs are small; the faults are for layers
        if self.command == 'GET' and is_layer and fault == 'drip-blob':
            return self.drip(body, {'Content-Type': 'application/octet-stream'})
        if self.command == 'GET' and is_layer and fault == 'huge-length-blob':
            self.start_unbounded({'Content-Type': 'application/octet-stream', 'Content-Length': str(10 << 40)})
            return self.stream(body, b'\0' * CHUNK)
        if self.command == 'GET' and is_layer and fault == 'overlong-blob':
            self.start_unbounded({'Content-Type': 'application/octet-stream'})
            self.stream(body, b'\0' * CHUNK)
            try:
                self.wfile.write(b'0\r\n\r\n')
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        self.reply(200, body, {'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': 'sha256:' + hexd})

    def body_bytes(self):
        n = int(self.headers.get('Content-Length') or 0)
        if n > 64 << 20:
            raise ValueError('upload too large for this test registry')
        return self.rfile.read(n) if n else b''

    def do_POST(self):
        self.log_request_line()
        url = urlparse(self.path)
        m = re.match(r'^/v2/(.+)/blobs/uploads/$', url.path)
        if not m:
            return self.not_found('NAME_UNKNOWN')
        repo = m.group(1)
        self.body_bytes()
        q = parse_qs(url.query)
        if 'mount' in q and 'from' in q:
            hexd = q['mount'][0].split(':', 1)[-1]
            if repo_has_blob(q['from'][0], hexd):
                link_blob(repo, hexd)
                return self.reply(201, b'', {'Location': f'/v2/{repo}/blobs/sha256:{hexd}', 'Docker-Content-Digest': 'sha256:' + hexd})
        upload = hashlib.sha256(os.urandom(16)).hexdigest()[:16]
        with lock:
            uploads[upload] = bytearray()
        self.reply(202, b'', {'Location': f'/v2/{repo}/blobs/uploads/{upload}', 'Range': '0-0'})

    def do_PATCH(self):
        self.log_request_line()
        m = re.match(r'^/v2/(.+)/blobs/uploads/([0-9a-f]+)$', urlparse(self.path).path)
        if not m or m.group(2) not in uploads:
            return self.not_found('BLOB_UPLOAD_UNKNOWN')
        data = self.body_bytes()
        with lock:
            uploads[m.group(2)] += data
            size = len(uploads[m.group(2)])
        self.reply(202, b'', {'Location': f'/v2/{m.group(1)}/blobs/uploads/{m.group(2)}', 'Range': f'0-{max(size - 1, 0)}'})

    def do_PUT(self):
        self.log_request_line()
        url = urlparse(self.path)
        data = self.body_bytes()
        m = re.match(r'^/v2/(.+)/blobs/uploads/([0-9a-f]+)$', url.path)
        if m:
            repo, upload = m.groups()
            with lock:
                content = bytes(uploads.pop(upload, bytearray()) + data)
            want = parse_qs(url.query).get('digest', [''])[0]
            got = 'sha256:' + hashlib.sha256(content).hexdigest()
            if want != got:
                return self.reply(400, json.dumps({'errors': [{'code': 'DIGEST_INVALID', 'message': 'digest invalid'}]}).encode())
            with open(os.path.join(root, 'blobs', got[7:]), 'wb') as f:
                f.write(content)
            link_blob(repo, got[7:])
            return self.reply(201, b'', {'Location': f'/v2/{repo}/blobs/{got}', 'Docker-Content-Digest': got})
        m = re.match(r'^/v2/(.+)/manifests/([^/]+)$', url.path)
        if m:
            digest = 'sha256:' + hashlib.sha256(data).hexdigest()
            with lock:
                pushed_manifests[(m.group(1), m.group(2))] = data
                pushed_manifests[(m.group(1), digest)] = data
            return self.reply(201, b'', {'Location': f'/v2/{m.group(1)}/manifests/{digest}', 'Docker-Content-Digest': digest})
        self.not_found('NAME_UNKNOWN')


server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
server.daemon_threads = True
print(f'listening {server.server_address[1]}', flush=True)
server.serve_forever()
