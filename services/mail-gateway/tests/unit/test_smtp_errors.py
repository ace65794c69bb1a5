"""What the connection test and a failed delivery say about an SMTP failure: a manager reads it
on the Email accounts screen, so it names the cause (login, certificate, missing STARTTLS) in
words, and the STARTTLS refusal says that nothing went out in plain text. The real servers'
errors are checked in ``tests/integration/test_mail_tls.py``; here the wording per kind."""

from __future__ import annotations

import ssl

import aiosmtplib

from mail_gateway.adapters.smtp import StartTlsNotOffered, explain


def untrusted() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
    )
    error.verify_message = "self-signed certificate"  # as the ssl module sets it
    return error


def test_a_server_without_starttls_is_refused_not_used_in_plain_text() -> None:
    said = explain(StartTlsNotOffered("mail.example.com", 587))
    assert "mail.example.com:587 does not offer STARTTLS" in said
    assert "refused" in said and "unencrypted" in said


def test_a_refused_login_names_the_credentials_and_the_server_answer() -> None:
    said = explain(aiosmtplib.SMTPAuthenticationError(535, "5.7.8 Authentication failed"))
    assert said.startswith("the SMTP server refused the login (535 5.7.8 Authentication failed)")
    assert "user and password" in said


def test_an_untrusted_certificate_is_named_after_starttls_and_under_implicit_tls() -> None:
    # After STARTTLS the ssl error comes as it is; on connect (implicit TLS) aiosmtplib wraps it.
    wrapped = aiosmtplib.SMTPConnectError("Error connecting to mail.example.com on port 465")
    wrapped.__cause__ = untrusted()
    for error in (untrusted(), wrapped):
        assert explain(error) == (
            "the SMTP server's certificate is not trusted: self-signed certificate"
        )


def test_anything_else_keeps_its_kind_and_text() -> None:
    assert explain(ConnectionRefusedError(111, "Connection refused")) == (
        "ConnectionRefusedError: [Errno 111] Connection refused"
    )
    assert explain(TimeoutError()) == "TimeoutError"
