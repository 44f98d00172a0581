"""The station kiosk: a touch screen in the station, no login, big type, back home after idle."""
