// Keeps the participant's random token in a first-party cookie, so that a reload, a server
// restart or another replica opens the same workspace. The token is never put in the URL.
// data: {name, token, max_age}; sends nothing back.

export default function ({ data }) {
  if (!data || !data.name || !data.token) return;
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie =
    `${data.name}=${encodeURIComponent(data.token)}; Max-Age=${data.max_age}; Path=/; ` +
    `SameSite=Lax${secure}`;
}
