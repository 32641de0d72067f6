"""The agency's signer when its key lives on a PKCS#11 token or HSM (pyHanko's PKCS#11 support).

    with open_pkcs11_signer(get_settings()) as signer:      # a pyhanko Signer
        signers.sign_pdf(writer, PdfSignatureMetadata(field_name="Sig1"), signer=signer, output=out)

Opening a session and logging in costs far more than one signature, so the signer is meant to be
opened once per worker process and kept: :class:`Pkcs11TokenSigner` holds one logged-in session and
reuses it for every signature. Several threads may sign through it at once: the calls into the
module are serialised by a lock (one per module path, because python-pkcs11 initialises the module
without locking callbacks, which in PKCS#11 means "one thread at a time" for the whole module, not
only for one session); the PDF hashing around them runs in parallel.

When the token drops (USB token pulled out, network HSM restarted: the session handle is no longer
valid), the next signature fails inside the module; the signer then closes what is left, opens and
logs in a new session (re-initialising the module if the token cannot be found otherwise), finds
the key again and signs once more. If the token is still away the caller gets
:class:`SigningUnavailable` and the next signature tries again. A token that comes back with a
different certificate is refused rather than silently signing with a certificate the signer did not
start with: reopen the signer then.

Settings at fault (module, token label, PIN, key or certificate) raise :class:`SigningConfigError`
naming the ``TDCFLOW_SIGNING_PKCS11_*`` variable. The PIN is never logged. Wrong PINs count towards
locking a hardware token, which only its security officer can undo: a PIN refused at a reopen is
not tried again by that signer, and no log-in is tried when the token reports one try left.

A session must not cross a ``fork()``: open the signer in each worker process after it started.
Within one process, keep one signer per token: PKCS#11 logs in an application, not a session, so
closing one signer logs the others out of the same token (they recover through the reopen above).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import serialization
from pkcs11 import Attribute, PKCS11Error, TokenFlag
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.sign.pkcs11 import PKCS11Signer, find_token

from workflows.errors import FieldProblem
from workflows.signing.errors import SigningConfigError, SigningFailed
from workflows.signing.sync import warm_certificate

if TYPE_CHECKING:
    from types import TracebackType

    from workflows.config import Settings

log = logging.getLogger("tdcflow.signing")

ENV_PREFIX = "TDCFLOW_SIGNING_PKCS11_"
MODULE = ENV_PREFIX + "MODULE"
TOKEN_LABEL = ENV_PREFIX + "TOKEN_LABEL"
KEY_LABEL = ENV_PREFIX + "KEY_LABEL"
KEY_ID = ENV_PREFIX + "KEY_ID"
CERT_LABEL = ENV_PREFIX + "CERT_LABEL"
CERT_ID = ENV_PREFIX + "CERT_ID"
PIN = ENV_PREFIX + "PIN"
PIN_FILE = ENV_PREFIX + "PIN_FILE"
CHAIN_FILE = ENV_PREFIX + "CHAIN_FILE"

# A certificate this close to its end is logged as a warning at every open.
EXPIRY_WARNING = dt.timedelta(days=30)


class SigningUnavailable(SigningFailed):
    """The token cannot be reached now (removed, HSM down) or the signer was closed; retry later."""


def _config_error(setting: str, vi: str, en: str) -> SigningConfigError:
    return SigningConfigError(
        f"Cấu hình ký số chưa đúng ({setting}): {vi}",
        f"Signing is misconfigured ({setting}): {en}",
        code="signing_misconfigured",
        fields=[FieldProblem(setting, vi, en)],
        setting=setting,
    )


def _hex_id(value: str | None, setting: str) -> bytes | None:
    """A CKA_ID written in hex, with or without ':' or spaces between the bytes (as tools print it)."""
    if value is None or not value.strip():
        return None
    try:
        return bytes.fromhex(value.replace(":", "").replace(" ", ""))
    except ValueError:
        raise _config_error(
            setting, f"'{value}' không phải số hệ 16 (ví dụ a1b2).", f"'{value}' is not hex (e.g. a1b2)."
        ) from None


def _read_pin_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        pin = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise _config_error(
            PIN_FILE,
            f"không đọc được tệp {path} ({exc.strerror}).",
            f"cannot read {path} ({exc.strerror}).",
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s: %s can be read by other users than its owner (chmod 600 it)", PIN_FILE, path)
    if not pin:
        raise _config_error(PIN_FILE, f"tệp {path} trống.", f"{path} is empty.")
    return pin


def _read_chain(path: Path) -> tuple[asn1_x509.Certificate, ...]:
    try:
        found = crypto_x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        raise _config_error(
            CHAIN_FILE,
            f"không đọc được tệp {path} ({exc.strerror}).",
            f"cannot read {path} ({exc.strerror}).",
        ) from None
    except ValueError:
        raise _config_error(
            CHAIN_FILE,
            f"tệp {path} không chứa chứng thư PEM hợp lệ.",
            f"{path} holds no valid PEM certificate.",
        ) from None
    return tuple(asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in found)


@dataclass(frozen=True)
class Pkcs11Params:
    """Where the key is and how to unlock it; :meth:`from_settings` checks the settings."""

    module: Path
    token_label: str
    pin: str = field(repr=False)
    key_label: str | None = None
    key_id: bytes | None = None
    cert_label: str | None = None
    cert_id: bytes | None = None
    chain: tuple[asn1_x509.Certificate, ...] = ()
    # The setting the PIN came from, to name in a wrong-PIN error.
    pin_setting: str = PIN

    @classmethod
    def from_settings(cls, settings: Settings) -> Pkcs11Params:
        module = settings.signing_pkcs11_module
        if module is None:
            raise _config_error(MODULE, "chưa đặt.", "not set.")
        if not module.is_file():
            raise _config_error(
                MODULE, f"không có tệp {module}.", f"{module} does not exist or is not a file."
            )
        if not settings.signing_pkcs11_token_label:
            raise _config_error(TOKEN_LABEL, "chưa đặt.", "not set.")
        if settings.signing_pkcs11_pin and settings.signing_pkcs11_pin_file:
            raise _config_error(
                PIN_FILE,
                f"chỉ đặt một trong {PIN} và {PIN_FILE}.",
                f"set only one of {PIN} and {PIN_FILE}.",
            )
        if settings.signing_pkcs11_pin_file is not None:
            pin, pin_setting = _read_pin_file(settings.signing_pkcs11_pin_file), PIN_FILE
        elif settings.signing_pkcs11_pin:
            pin, pin_setting = settings.signing_pkcs11_pin, PIN
        else:
            raise _config_error(
                PIN_FILE, f"chưa đặt mã PIN ({PIN_FILE} hoặc {PIN}).", f"no PIN set ({PIN_FILE} or {PIN})."
            )
        key_label = settings.signing_pkcs11_key_label or None
        key_id = _hex_id(settings.signing_pkcs11_key_id, KEY_ID)
        if key_label is None and key_id is None:
            raise _config_error(
                KEY_LABEL,
                f"chưa đặt nhãn ({KEY_LABEL}) hay mã ({KEY_ID}) của khóa.",
                f"neither the key's label ({KEY_LABEL}) nor its ID ({KEY_ID}) is set.",
            )
        chain_file = settings.signing_pkcs11_chain_file
        return cls(
            module=module,
            token_label=settings.signing_pkcs11_token_label,
            pin=pin,
            pin_setting=pin_setting,
            key_label=key_label,
            key_id=key_id,
            cert_label=settings.signing_pkcs11_cert_label or None,
            cert_id=_hex_id(settings.signing_pkcs11_cert_id, CERT_ID),
            chain=_read_chain(chain_file) if chain_file is not None else (),
        )

    @property
    def key_setting(self) -> str:
        return KEY_LABEL if self.key_label is not None else KEY_ID

    @property
    def cert_setting(self) -> str:
        """The setting the certificate is found by (the key's when no cert_* is set, as pyHanko does)."""
        if self.cert_label is not None:
            return CERT_LABEL
        if self.cert_id is not None:
            return CERT_ID
        return self.key_setting


_module_locks: dict[str, threading.RLock] = {}
_module_locks_guard = threading.Lock()
# How often each module was re-initialised in this process: a session opened before the last
# re-initialisation is gone, and its handle number may since name another signer's new session.
_generations: dict[str, int] = {}


def _module_lock(module: Path) -> threading.RLock:
    """The one lock of a PKCS#11 module in this process (see the module docstring)."""
    with _module_locks_guard:
        return _module_locks.setdefault(str(module), threading.RLock())


def _open_session(params: Pkcs11Params, *, reinitialize: bool = False) -> pkcs11.Session:
    """Load the module, find the token, log in; each failure names its setting. Lock held by caller."""
    try:
        lib = pkcs11.lib(str(params.module))
        if reinitialize:
            lib.reinitialize()
            _generations[str(params.module)] = _generations.get(str(params.module), 0) + 1
    except PKCS11Error as exc:
        raise _config_error(
            MODULE,
            f"không nạp được mô-đun PKCS#11 {params.module} ({exc}).",
            f"cannot load the PKCS#11 module {params.module} ({exc}).",
        ) from exc
    try:
        token = find_token(lib.get_slots(), token_criteria=TokenCriteria(label=params.token_label))
    except PKCS11Error as exc:  # the module cannot even list its slots (e.g. a network HSM is down)
        log.warning("PKCS#11 module %s cannot list its slots: %s", params.module, type(exc).__name__)
        token = None
    if token is None:
        raise _config_error(
            TOKEN_LABEL,
            f"không tìm thấy token '{params.token_label}' (chưa cắm, sai nhãn hoặc HSM không truy cập được).",
            f"no token labelled '{params.token_label}' (not plugged in, wrong label or HSM unreachable).",
        )
    # A hardware token locks its PIN after a few wrong tries and only the security officer can
    # unlock it: the last try is never spent automatically (a worker restarting in a loop would).
    if token.flags & TokenFlag.USER_PIN_LOCKED:
        raise _config_error(
            params.pin_setting,
            f"mã PIN của token '{params.token_label}' đã bị khóa (nhập sai quá số lần).",
            f"the PIN of token '{params.token_label}' is locked (too many wrong tries).",
        )
    if token.flags & TokenFlag.USER_PIN_FINAL_TRY:
        raise _config_error(
            params.pin_setting,
            f"token '{params.token_label}' chỉ còn một lần thử mã PIN: không tự thử; hãy kiểm tra mã PIN "
            "và đăng nhập một lần bằng công cụ của token.",
            f"token '{params.token_label}' has one PIN try left: not tried automatically; check the PIN and "
            "log in once with the token's own tool.",
        )
    try:
        return token.open(user_pin=params.pin)
    except pkcs11.UserAlreadyLoggedIn:
        # Another session of this process has logged in to the token already (PKCS#11 logs in the
        # application): a new session shares that login.
        return token.open()
    except pkcs11.PinLocked as exc:
        raise _config_error(
            params.pin_setting,
            f"mã PIN của token '{params.token_label}' đã bị khóa (nhập sai quá số lần).",
            f"the PIN of token '{params.token_label}' is locked (too many wrong tries).",
        ) from exc
    except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange, pkcs11.PinExpired) as exc:
        raise _config_error(
            params.pin_setting,
            f"token '{params.token_label}' không nhận mã PIN ({type(exc).__name__}).",
            f"token '{params.token_label}' refused the PIN ({type(exc).__name__}).",
        ) from exc


def _close_quietly(session: pkcs11.Session) -> None:
    try:
        session.close()
    except PKCS11Error as exc:  # the token is gone already: nothing left to end
        log.debug("closing a PKCS#11 session: %s", type(exc).__name__)


class Pkcs11TokenSigner(PKCS11Signer):
    """pyHanko's PKCS#11 signer over one long-lived session, thread-safe, reopened when the token drops.

    Made by :func:`open_pkcs11_signer`; a context manager, or call :meth:`close` when done.
    """

    def __init__(self, params: Pkcs11Params) -> None:
        self.params = params
        self._lock = _module_lock(params.module)
        self._closed = False
        self._session_lost = False
        # Set when the token refused the PIN at a reopen: no further tries (each one could count
        # towards locking the PIN); an operator fixes the PIN and the signer is opened anew.
        self._pin_refused: SigningConfigError | None = None
        self.opened_sessions = 0  # how many sessions this signer opened (1 unless the token dropped)
        with self._lock:
            session = _open_session(params)
            self._session_open = True
            self._generation = _generations.get(str(params.module), 0)
            self.opened_sessions = 1
            try:
                super().__init__(
                    session,
                    cert_label=params.cert_label,
                    cert_id=params.cert_id,
                    key_label=params.key_label,
                    key_id=params.key_id,
                    ca_chain=params.chain or None,
                    other_certs_to_pull=(),
                )
                self._load_objects()
                self._check_key_and_certificate()
            except BaseException:
                _close_quietly(session)
                raise
        cert = self._signing_cert
        warm_certificate(self)
        log.info(
            "PKCS#11 signer ready: token '%s', key %s, certificate '%s' (serial %x) valid until %s",
            params.token_label,
            params.key_label or (params.key_id or b"").hex(),
            cert.subject.human_friendly,
            cert.serial_number,
            cert.not_valid_after.isoformat(),
        )

    # -- finding the objects (pyHanko's, with the setting at fault named) --

    def _pull_single_cert(self, label: str | None, cert_id: bytes | None) -> asn1_x509.Certificate:
        try:
            return super()._pull_single_cert(label, cert_id)
        except PKCS11Error as exc:
            raise _config_error(
                self.params.cert_setting,
                f"không tìm thấy đúng một chứng thư số trên token '{self.params.token_label}' ({exc}).",
                f"not exactly one signing certificate on token '{self.params.token_label}' ({exc}).",
            ) from exc

    def _pull_signing_key_handle(self) -> Any:
        try:
            return super()._pull_signing_key_handle()
        except PKCS11Error as exc:
            raise _config_error(
                self.params.key_setting,
                f"không tìm thấy đúng một khóa bí mật trên token '{self.params.token_label}' ({exc}).",
                f"not exactly one private key on token '{self.params.token_label}' ({exc}).",
            ) from exc

    def _check_key_and_certificate(self) -> None:
        """The certificate belongs to the key and is in force: else every signature would be invalid."""
        cert = self._signing_cert
        assert cert is not None and self._key_handle is not None
        if cert.public_key.algorithm == "rsa":
            try:
                modulus = int.from_bytes(self._key_handle[Attribute.MODULUS], "big")
            except PKCS11Error:  # a token may hide it: then the first signature's validation tells
                modulus = None
            if modulus is not None and modulus != cert.public_key.native["public_key"]["modulus"]:
                raise _config_error(
                    self.params.cert_setting,
                    "chứng thư tìm được không thuộc về khóa bí mật đã chọn.",
                    "the certificate found does not belong to the chosen private key.",
                )
        now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before <= now <= cert.not_valid_after:
            raise _config_error(
                self.params.cert_setting,
                f"chứng thư số chỉ có hiệu lực từ {cert.not_valid_before:%d/%m/%Y} "
                f"đến {cert.not_valid_after:%d/%m/%Y}.",
                f"the signing certificate is valid only from {cert.not_valid_before:%Y-%m-%d} "
                f"to {cert.not_valid_after:%Y-%m-%d}.",
            )
        if cert.not_valid_after - now < EXPIRY_WARNING:
            log.warning("the signing certificate expires on %s", cert.not_valid_after.isoformat())

    # -- signing --

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:
            return self.estimate_raw_signature_size_bytes() * b"0"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.sign_raw_blocking, data, digest_algorithm)

    def sign_raw_blocking(self, data: bytes, digest_algorithm: str) -> bytes:
        """Sign ``data`` on the token now, in this thread; reopen the session once if it was lost."""
        spec = self._select_pkcs11_signing_params(digest_algorithm, sign_kwargs=self.sign_kwargs(data))
        if spec.pre_sign_transform is not None:
            data = spec.pre_sign_transform(data)
        with self._lock:
            if self._closed:
                raise SigningUnavailable(
                    "Bộ ký PKCS#11 đã đóng.", "The PKCS#11 signer is closed.", code="signing_closed"
                )
            if self._pin_refused is not None:
                raise self._pin_refused
            if self._session_lost:
                self._reopen()
            try:
                signature = self._key_handle.sign(data, **spec.sign_kwargs)  # type: ignore[union-attr]
            except PKCS11Error as first:
                log.warning(
                    "PKCS#11 signature failed on token '%s' (%s): opening a new session",
                    self.params.token_label,
                    type(first).__name__,
                )
                self._session_lost = True
                self._reopen()
                try:
                    signature = self._key_handle.sign(data, **spec.sign_kwargs)  # type: ignore[union-attr]
                except PKCS11Error as exc:
                    self._session_lost = True
                    raise SigningUnavailable(
                        f"Token '{self.params.token_label}' không ký được ({type(exc).__name__}).",
                        f"Token '{self.params.token_label}' failed to sign ({type(exc).__name__}).",
                        code="signing_unavailable",
                    ) from exc
        if spec.post_sign_transform is not None:
            signature = spec.post_sign_transform(signature)
        return signature

    def _end_session(self) -> None:
        """End our session unless it is ended already or died with a re-initialisation (lock held)."""
        if self._session_open and self._generation == _generations.get(str(self.params.module), 0):
            _close_quietly(self.pkcs11_session)
        self._session_open = False

    def _reopen(self) -> None:
        """A new session in place of a lost one (lock held). Leaves ``_session_lost`` set on failure."""
        self._end_session()
        try:
            try:
                session = _open_session(self.params)
            except SigningConfigError as exc:
                if exc.setting != TOKEN_LABEL:
                    raise
                # Some modules see a token that came back (or a restarted HSM) only once re-initialised.
                # This ends every session of this module in the process; other signers reopen theirs.
                session = _open_session(self.params, reinitialize=True)
        except SigningConfigError as exc:
            if exc.setting in (PIN, PIN_FILE):
                log.error("PKCS#11 token '%s' refused the PIN: not trying again", self.params.token_label)
                self._pin_refused = exc
                raise
            raise self._unavailable(exc.message, exc.message_en) from exc
        except PKCS11Error as exc:
            raise self._unavailable(type(exc).__name__, type(exc).__name__) from exc
        self.opened_sessions += 1
        self.pkcs11_session = session
        self._session_open = True
        self._generation = _generations.get(str(self.params.module), 0)
        try:
            self._key_handle = self._pull_signing_key_handle()
            certificate = self._pull_single_cert(self.cert_label, self.cert_id)
        except SigningConfigError:
            self._end_session()
            raise
        if certificate.dump() != self._signing_cert.dump():
            self._end_session()
            raise SigningUnavailable(
                "Chứng thư số trên token đã đổi: hãy mở lại bộ ký (khởi động lại tiến trình ký).",
                "The signing certificate on the token changed: open the signer again (restart the worker).",
                code="signing_certificate_changed",
            )
        self._session_lost = False
        log.info("PKCS#11 session to token '%s' reopened", self.params.token_label)

    def _unavailable(self, vi: str, en: str) -> SigningUnavailable:
        log.error("PKCS#11 token '%s' cannot be reopened: %s", self.params.token_label, en)
        return SigningUnavailable(
            f"Không mở lại được token '{self.params.token_label}'. {vi}",
            f"The token '{self.params.token_label}' cannot be reopened. {en}",
            code="signing_unavailable",
        )

    # -- ending --

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Log out and end the session; later signatures raise :class:`SigningUnavailable`. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._end_session()
        log.info("PKCS#11 session to token '%s' closed", self.params.token_label)

    def __enter__(self) -> Pkcs11TokenSigner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_pkcs11_signer(source: Settings | Pkcs11Params) -> Pkcs11TokenSigner:
    """Open a session to the token, log in and find the key and its certificate.

    Raises :class:`SigningConfigError` naming the setting at fault. The result is a pyHanko
    ``Signer``; keep it for the worker's lifetime and close it (or use it as a context manager).
    """
    params = source if isinstance(source, Pkcs11Params) else Pkcs11Params.from_settings(source)
    return Pkcs11TokenSigner(params)
