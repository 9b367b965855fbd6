# The public pages' English dates: "10 January 2022", "10 Jan 2022", "January 2022".
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j M Y"
YEAR_MONTH_FORMAT = "F Y"
