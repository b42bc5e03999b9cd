; Inno Setup script for the PyInstaller one-folder bundle (dist/synthbot-desktop).
#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
[Setup]
AppName=SynthBot Desktop
AppVersion={#AppVersion}
DefaultDirName={autopf}\SynthBot Desktop
DefaultGroupName=SynthBot Desktop
OutputDir=..\..\dist\installer
OutputBaseFilename=synthbot-desktop-setup
Compression=lzma2
SolidCompression=yes
PrivilegesRequiredOverridesAllowed=dialog

[Files]
Source: "..\..\dist\synthbot-desktop\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\SynthBot Desktop"; Filename: "{app}\synthbot-desktop.exe"; Parameters: "gui"
