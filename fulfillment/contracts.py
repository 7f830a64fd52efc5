"""Frozen dataclasses and enums exchanged between views, workflows and activities of fulfillment.

Standard library only: workflows import this module.
"""
