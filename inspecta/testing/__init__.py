"""Test data: lab and on-site test records, their revisions and instrument data."""
