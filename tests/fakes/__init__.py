"""Test doubles that speak the wire protocol of outside services (Stripe's API, its webhook
deliveries), so the code under test runs unchanged against them."""
