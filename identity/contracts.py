"""Frozen dataclasses and enums exchanged between views, workflows and activities of identity.

Standard library only: workflows import this module.
"""
