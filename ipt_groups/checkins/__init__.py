"""Check-ins: instruments and scoring (pure), reading replies and crisis phrases (pure), conversations, the
inbox, safety, alerts and their escalation, score trajectories and the Twilio webhooks."""
