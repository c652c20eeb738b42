"""Safe mode (encrypt_type=aes): open WeChat's encrypted envelope and seal our passive replies,
with wechatpy's WeChatCrypto (AES-256-CBC, msg_signature over token/timestamp/nonce/cipher)."""

from __future__ import annotations

import struct

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from gateway.channels.wechat import xmlsafe
from gateway.channels.wechat.security import Refused


class SafeModeUnavailable(Exception):
    """An encrypted message arrived but no EncodingAESKey / app id is configured."""


class Codec:
    def __init__(self, token: str, encoding_aes_key: str | None, app_id: str | None) -> None:
        self._crypto = None
        if encoding_aes_key and app_id:
            self._crypto = WeChatCrypto(token, encoding_aes_key, app_id)

    @property
    def safe_mode(self) -> bool:
        return self._crypto is not None

    def open(self, body: bytes, msg_signature: str | None, timestamp: str, nonce: str) -> str:
        """The plaintext message XML inside an encrypted envelope."""
        if self._crypto is None:
            raise SafeModeUnavailable("encrypted message but no EncodingAESKey configured")
        if not msg_signature:
            raise Refused("msg_signature is required in safe mode")
        envelope = xmlsafe.parse_dict(body)
        if not envelope.get("Encrypt"):
            raise xmlsafe.BadXML("no <Encrypt> element")
        try:
            plain: str = self._crypto.decrypt_message(envelope, msg_signature, timestamp, nonce)
            return plain
        except InvalidSignatureException:
            raise Refused("bad msg_signature") from None
        except InvalidAppIdException:
            raise Refused("message encrypted for another app id") from None
        except (ValueError, TypeError, IndexError, struct.error) as exc:  # bad base64/padding, short or non-UTF-8 text
            raise xmlsafe.BadXML(f"cannot decrypt: {type(exc).__name__}") from None

    def seal(self, reply_xml: str, nonce: str, timestamp: str) -> str:
        assert self._crypto is not None
        sealed: str = self._crypto.encrypt_message(reply_xml, nonce, timestamp)
        return sealed
