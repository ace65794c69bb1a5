"""An agent's answer to a notification mail (issue #14): which ticket it lands on, and as what.

The notification service mails agents about tickets with a signed reply reference as the
Message-ID (:mod:`helpdesk_platform.mail_reply`); an agent's mail client quotes it in
``In-Reply-To``/``References``. Such a mail counts as the agent's answer on that ticket only when

- its sender is an active agent (anyone else's mail quoting the same id is anyone's mail: a
  reference is no licence, so no hijack by a forwarded notification),
- it answers no message of a ticket's thread (a thread match wins, as before),
- the reference's mac checks out under the gateway's reply keys (a forged or tampered one is
  ignored and the ordinary rules apply), and
- it is a person's mail (an agent's out-of-office answering a notification stays machine mail).

The reference's kind decides what the answer becomes: ``public`` a public reply (mailed to the
customer), ``internal`` an internal note (never sent on) - an answer to an internal discussion
must not reach the customer.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpdesk_platform.mail_reply import ReplyReference, first_reference
from mail_gateway.domain.parsing import ParsedMail
from mail_gateway.domain.threading import reference_chain


def notification_answer(
    mail: ParsedMail, *, from_active_agent: bool, automated: bool, keys: Sequence[bytes]
) -> ReplyReference | None:
    """The notification this mail answers as an agent's answer, or None (ordinary rules)."""
    if not from_active_agent or automated:
        return None
    return first_reference(reference_chain(mail), keys)
