"""Notifications: fan-out, the in-app store, push, email and preferences."""
