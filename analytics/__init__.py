"""Risk scoring, early warning, random inspection draws and scorecards (later issues)."""
