"""The tests' SMTP handler for aiosmtpd: delivers into a maildir like aiosmtpd's own
Mailbox, and refuses for good (550) any recipient whose address starts with "refused",
so that the server's handling of permanent failures is exercised against a real server.

    PYTHONPATH=tests/smtp python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c maildrop.Maildrop DIR
"""

from aiosmtpd.handlers import Mailbox


class Maildrop(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"
