"""The baseline for bench/webhook.py: a bare Flask app that answers POST /twilio/sms with the TwiML
the real webhook sends for an RSVP, with no signature check, no database and no extensions.

It parses the form, as any webhook handler must, so the baseline is "Flask + gunicorn + HTTP + form
parsing" and the ratio app/bare measures what the application adds on top of that floor.

    gunicorn --pythonpath bench webhook_bare:app
"""

from __future__ import annotations

from flask import Flask, Response, request

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks, see you then.</Message></Response>'

app = Flask(__name__)


@app.post("/twilio/sms")
def inbound_sms() -> Response:
    """The same TwiML as the real webhook's RSVP answer; 400 without the fields it would need."""
    if not request.form.get("MessageSid") or not request.form.get("From"):
        return Response(
            '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', 400, mimetype="text/xml"
        )
    return Response(TWIML, mimetype="text/xml")


@app.get("/")
def ready() -> str:
    """For the benchmark's readiness probe."""
    return "ok"
