"""Amazon SES, thinly: send one MIME message, built by the caller.

``SendRawEmail`` rather than ``SendEmail``: SES v1's ``SendEmail`` cannot set headers, and
every email carries ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` (RFC 8058). The
client is the shared one of integrations/aws.py (created once per container, pointed at
moto's server by ``AWS_ENDPOINT_URL`` on the local stack).

SES sends only from a verified identity. In the cloud the operator verifies the sender's
domain once (with DKIM); moto keeps the same rule, so the local stack and the tests verify
the sender with ``verify_local_sender`` (moto only: it answers at once).
"""

from __future__ import annotations

from chalicelib.integrations import aws


class EmailRejected(Exception):
    """SES refused this message (a bad address, an unverified sender): retrying the same
    message cannot succeed."""


def send_raw(*, sender: str, recipient: str, raw: bytes) -> str:
    """Send the MIME message ``raw`` from ``sender`` (the envelope's source) to ``recipient``;
    returns SES's message id. Throttling and outages raise botocore's errors (retryable)."""
    from botocore.exceptions import ClientError

    try:
        response = aws.client("ses").send_raw_email(Source=sender, Destinations=[recipient],
                                                    RawMessage={"Data": raw})
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("MessageRejected", "InvalidParameterValue", "MailFromDomainNotVerifiedException"):
            raise EmailRejected(f"SES rejected the email: {code}.") from exc
        raise
    return str(response["MessageId"])


def verify_local_sender(address: str) -> None:
    """moto's SES: mark ``address`` verified (in the cloud the identity is verified once,
    out of band, and this is never called)."""
    aws.client("ses").verify_email_identity(EmailAddress=address)
