"""ipt-groups: forms IPT groups, runs their cycles, texts members and tracks attendance.

Nothing heavy is imported here: importing a pure core loads neither Flask nor SQLAlchemy.
The factory is ipt_groups.app.create_app."""
