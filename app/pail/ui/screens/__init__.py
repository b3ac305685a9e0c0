"""Screens of the app: the main tree | detail screen and the help modal."""
