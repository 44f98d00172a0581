"""Registry: deputies, groups, stations, handling units, roster import and export."""
